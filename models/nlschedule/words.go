package nlschedule

// dayWords maps names of days (and their plurals, which plural handles) to
// cron's day-of-week numbers, Sunday 0.
var dayWords = map[string]int{
	"sunday": 0, "sun": 0,
	"monday": 1, "mon": 1,
	"tuesday": 2, "tue": 2, "tues": 2,
	"wednesday": 3, "wed": 3, "weds": 3,
	"thursday": 4, "thu": 4, "thur": 4, "thurs": 4,
	"friday": 5, "fri": 5,
	"saturday": 6, "sat": 6,
}

// daySetWords name sets of days; business and working days are two-word
// phrases handled by the parser.
var daySetWords = map[string][]int{
	"weekday": {1, 2, 3, 4, 5}, "workday": {1, 2, 3, 4, 5},
	"weekend": {0, 6},
}

// monthWords maps month names to 1-12.
var monthWords = map[string]int{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3,
	"april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7,
	"august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
	"october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

// numberWords are the counts people spell out.
var numberWords = map[string]int{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
	"seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
	"fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "sixty": 60, "ninety": 90,
}

// ordinalWords are the spelled-out days of the month.
var ordinalWords = map[string]int{
	"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
	"seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11,
	"twelfth": 12, "fifteenth": 15, "twentieth": 20,
}

// unitWords maps the words of an interval to its unit.
var unitWords = map[string]string{
	"s": "second", "sec": "second", "secs": "second", "second": "second", "seconds": "second",
	"m": "minute", "min": "minute", "mins": "minute", "minute": "minute", "minutes": "minute",
	"h": "hour", "hr": "hour", "hrs": "hour", "hour": "hour", "hours": "hour",
	"d": "day", "day": "day", "days": "day",
	"week": "week", "weeks": "week",
	"month": "month", "months": "month",
	"year": "year", "years": "year",
}

// adverbs are the one-word intervals; quarterly is every third month.
var adverbs = map[string]struct {
	unit string
	n    int
}{
	"minutely": {"minute", 1}, "hourly": {"hour", 1}, "daily": {"day", 1},
	"nightly": {"day", 1}, "everyday": {"day", 1}, "weekly": {"week", 1},
	"monthly": {"month", 1}, "quarterly": {"month", 3},
	"yearly": {"year", 1}, "annually": {"year", 1},
}

// fillers carry no schedule of their own. "every" and "each" are fillers
// too: "every 15 minutes" and "15 minutes" read the same.
var fillers = map[string]bool{
	"at": true, "on": true, "the": true, "of": true, "and": true, "&": true,
	"in": true, "every": true, "each": true, "run": true, "runs": true,
	"please": true,
}

// zoneWords maps the zone words, abbreviations and cities people write
// (lower case, up to three words) to IANA names. Abbreviations stand for
// the zone with daylight saving ("EST" is New York, summer and winter).
var zoneWords = map[string]string{
	"utc": "UTC", "gmt": "UTC", "zulu": "UTC", "universal": "UTC",
	"pacific": "America/Los_Angeles", "pt": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
	"mountain": "America/Denver", "mt": "America/Denver", "mst": "America/Denver", "mdt": "America/Denver",
	"central": "America/Chicago", "ct": "America/Chicago", "cst": "America/Chicago", "cdt": "America/Chicago",
	"eastern": "America/New_York", "et": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
	"alaska": "America/Anchorage", "hawaii": "Pacific/Honolulu", "hst": "Pacific/Honolulu",
	"cet": "Europe/Berlin", "cest": "Europe/Berlin", "central european": "Europe/Berlin",
	"british": "Europe/London", "bst": "Europe/London", "ist": "Asia/Kolkata", "india": "Asia/Kolkata",
	"jst": "Asia/Tokyo", "japan": "Asia/Tokyo", "kst": "Asia/Seoul", "aest": "Australia/Sydney", "aedt": "Australia/Sydney",
	"nzst": "Pacific/Auckland", "nzdt": "Pacific/Auckland", "sgt": "Asia/Singapore", "hkt": "Asia/Hong_Kong",

	"new york": "America/New_York", "nyc": "America/New_York", "boston": "America/New_York", "toronto": "America/Toronto",
	"chicago": "America/Chicago", "denver": "America/Denver", "phoenix": "America/Phoenix",
	"los angeles": "America/Los_Angeles", "san francisco": "America/Los_Angeles", "seattle": "America/Los_Angeles",
	"vancouver": "America/Vancouver", "mexico city": "America/Mexico_City", "sao paulo": "America/Sao_Paulo",
	"são paulo": "America/Sao_Paulo", "buenos aires": "America/Argentina/Buenos_Aires",
	"london": "Europe/London", "dublin": "Europe/Dublin", "lisbon": "Europe/Lisbon", "paris": "Europe/Paris",
	"berlin": "Europe/Berlin", "munich": "Europe/Berlin", "amsterdam": "Europe/Amsterdam", "brussels": "Europe/Brussels",
	"madrid": "Europe/Madrid", "rome": "Europe/Rome", "zurich": "Europe/Zurich", "vienna": "Europe/Vienna",
	"prague": "Europe/Prague", "warsaw": "Europe/Warsaw", "stockholm": "Europe/Stockholm", "oslo": "Europe/Oslo",
	"copenhagen": "Europe/Copenhagen", "helsinki": "Europe/Helsinki", "athens": "Europe/Athens",
	"istanbul": "Europe/Istanbul", "moscow": "Europe/Moscow", "kyiv": "Europe/Kyiv", "cairo": "Africa/Cairo",
	"johannesburg": "Africa/Johannesburg", "cape town": "Africa/Johannesburg", "lagos": "Africa/Lagos", "nairobi": "Africa/Nairobi",
	"dubai": "Asia/Dubai", "tel aviv": "Asia/Jerusalem", "mumbai": "Asia/Kolkata", "delhi": "Asia/Kolkata",
	"new delhi": "Asia/Kolkata", "bangalore": "Asia/Kolkata", "kolkata": "Asia/Kolkata", "kathmandu": "Asia/Kathmandu",
	"bangkok": "Asia/Bangkok", "jakarta": "Asia/Jakarta", "singapore": "Asia/Singapore", "kuala lumpur": "Asia/Kuala_Lumpur",
	"hong kong": "Asia/Hong_Kong", "shanghai": "Asia/Shanghai", "beijing": "Asia/Shanghai", "manila": "Asia/Manila",
	"seoul": "Asia/Seoul", "tokyo": "Asia/Tokyo", "sydney": "Australia/Sydney", "melbourne": "Australia/Melbourne",
	"brisbane": "Australia/Brisbane", "perth": "Australia/Perth", "auckland": "Pacific/Auckland",
}

// ambiguousZones name more than one zone; the table picks the likeliest
// and Parse lowers its confidence (IST is also Israel and Ireland, BST also
// Bangladesh, CST also China).
var ambiguousZones = map[string]bool{"ist": true, "bst": true, "cst": true, "cdt": true}

// zoneTail words may follow a zone: "Pacific time", "Berlin time zone",
// "Eastern Standard Time".
var zoneTail = map[string]bool{"time": true, "timezone": true, "zone": true, "tz": true, "standard": true, "daylight": true}
