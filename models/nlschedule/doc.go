// Package nlschedule reads English schedules ("every weekday at 9am
// Pacific", "every 15 minutes", "on the 15th at 06:00") into the schedule
// and time zone a job takes. It is offline and deterministic: a fixed set
// of rules, no network, no model. Every result has passed
// models.ParseSchedule, the check POST /jobs makes, and text the rules
// cannot read, or could read more than one way, is an error naming the
// word or the conflict.
//
// The text leaves some things open; the rules decide them so:
//
//   - A day with no time runs at 00:00 ("every monday", "on the 1st",
//     "daily"). Weekly is Sunday 00:00, as cron's @weekly; monthly the 1st;
//     yearly 1 January; quarterly the 1st of January, April, July and
//     October.
//   - Twice a day is 09:00 and 21:00: twelve hours apart, the first in the
//     working morning. "N times a day" for other N that divide 24 is every
//     24/N hours from midnight ("4 times a day" is 00:00, 06:00 …).
//   - A bare hour is 24-hour: "at 9" is 09:00, "at 5" is 05:00, never
//     17:00. "12am" is midnight, "12pm" noon.
//   - Intervals that divide the hour or the day become cron steps, aligned
//     to the clock ("every 15 minutes" is */15, "every 2 hours" 0 */2).
//     Others become "@every" ("every 7 minutes" is @every 7m, "every 5
//     hours" @every 5h): exact intervals from the job's start, which cron
//     cannot limit to days or hours, so "every 7 minutes on weekdays" is
//     an error. Seconds are always "@every", and below models.MinEvery
//     (10s) an error rather than clamped: a job checked less often than
//     asked would hide the difference.
//   - "Every 2 days" is */2 in the day of month, which starts again on the
//     1st of every month (31 and 1 both run).
//   - A window "from 9am to 5pm" takes whole hours and stays within a day.
//     Minute steps stop before its end ("every 15 minutes from 9 to 17" runs
//     09:00 … 16:45); hour steps run at its end too ("every hour from 9 to
//     17" runs at 17:00).
//   - Times in one schedule must share their minute (09:00 and 17:00, not
//     09:00 and 17:30): one cron line cannot hold both.
//   - Days of the month and days of the week together are an error: cron
//     would run on either. So are "first Monday", "last day" and "every 2
//     weeks", which cron cannot say.
//   - Zone words stand for the zone with daylight saving: "Pacific", "PST"
//     and "PDT" are all America/Los_Angeles, "Eastern" and "EST"
//     America/New_York, "CET" Europe/Berlin, "GMT" UTC. Abbreviations with
//     more than one meaning (IST, BST, CST) take the likeliest and lower the
//     confidence. IANA names are used as written, or capitalised as usual
//     ("america/new_york"). With no zone in the text, the caller's default
//     applies, then UTC.
//
// Confidence is 0.95 for a text read word for word with nothing assumed;
// each assumption above (a default time or day, an am/pm guess, an
// ambiguous zone, twice a day) multiplies it down. A text that is already a
// valid schedule ("0 9 * * 1-5", "@hourly") is returned as it is, with
// confidence 1.
package nlschedule
