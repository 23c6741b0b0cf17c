package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

var descriptorText = map[string]string{
	"@yearly":   "once a year, at 00:00 on 1 January",
	"@annually": "once a year, at 00:00 on 1 January",
	"@monthly":  "once a month, at 00:00 on day 1",
	"@weekly":   "once a week, at 00:00 on Sunday",
	"@daily":    "every day at 00:00",
	"@midnight": "every day at 00:00",
	"@hourly":   "every hour, at minute 0",
}

var weekdayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

// describeCron covers the shapes people actually write; anything else is
// described field by field.
func describeCron(expr string, loc *time.Location) string {
	zone := ""
	if loc != time.UTC {
		zone = " (" + loc.String() + ")"
	}
	if d, ok := descriptorText[expr]; ok {
		return d + zone
	}
	f := strings.Fields(expr)
	if len(f) != 5 {
		return expr + zone
	}
	min, hour, dom, mon, dow := f[0], f[1], f[2], f[3], f[4]
	var when string
	switch {
	case min == "*" && hour == "*":
		when = "every minute"
	case strings.HasPrefix(min, "*/") && hour == "*":
		when = "every " + min[2:] + " minutes"
	case isNumber(min) && hour == "*":
		when = "every hour at minute " + min
	case isNumber(min) && isNumber(hour):
		h, _ := strconv.Atoi(hour)
		m, _ := strconv.Atoi(min)
		when = fmt.Sprintf("at %02d:%02d", h, m)
	case isNumber(min) && strings.HasPrefix(hour, "*/"):
		when = "at minute " + min + " every " + hour[2:] + " hours"
	default:
		when = fmt.Sprintf("at minute %s, hour %s", min, hour)
	}
	var days []string
	if dom != "*" {
		days = append(days, "on day "+dom+" of the month")
	}
	if mon != "*" {
		days = append(days, "in month "+mon)
	}
	switch dow {
	case "*":
	case "1-5", "MON-FRI", "mon-fri":
		days = append(days, "Monday through Friday")
	case "0,6", "6,0", "SAT,SUN", "sat,sun":
		days = append(days, "on weekends")
	default:
		if n, err := strconv.Atoi(dow); err == nil && n >= 0 && n <= 7 {
			days = append(days, "on "+weekdayNames[n])
		} else {
			days = append(days, "on weekday "+dow)
		}
	}
	if len(days) == 0 && isNumber(min) && isNumber(hour) {
		return "every day " + when + zone
	}
	return strings.TrimSpace(when+" "+strings.Join(days, ", ")) + zone
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}
