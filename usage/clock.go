package usage

import "time"

// parseCLFTime parses the common log timestamp "10/Oct/2000:13:55:36 -0700" without the time
// package (it is on the hot path): unix seconds and the offset in seconds east of UTC.
func parseCLFTime(b []byte) (unix int64, offset int32, err error) {
	// dd/Mon/yyyy:hh:mm:ss ±hhmm: 26 bytes.
	if len(b) != 26 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' || b[20] != ' ' {
		return 0, 0, errTime
	}
	day, ok1 := num2(b[0], b[1])
	mon := monthIndex(b[3], b[4], b[5])
	y1, ok2 := num2(b[7], b[8])
	y2, ok3 := num2(b[9], b[10])
	hh, ok4 := num2(b[12], b[13])
	mm, ok5 := num2(b[15], b[16])
	ss, ok6 := num2(b[18], b[19])
	oh, ok7 := num2(b[22], b[23])
	om, ok8 := num2(b[24], b[25])
	sign := b[21]
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8) || mon == 0 || (sign != '+' && sign != '-') {
		return 0, 0, errTime
	}
	year := y1*100 + y2
	off := int32(oh*3600 + om*60)
	if sign == '-' {
		off = -off
	}
	return civil(year, mon, day, hh, mm, ss, off)
}

// civil converts a wall-clock date and time at offset off to unix seconds, refusing impossible
// dates (31 February, hour 25, offsets beyond ±18h).
func civil(year, mon, day, hh, mm, ss int, off int32) (int64, int32, error) {
	if mon < 1 || mon > 12 || day < 1 || day > daysIn(year, mon) || hh > 23 || mm > 59 || ss > 60 ||
		off > 18*3600 || off < -18*3600 || year < 1970 || year > 9999 {
		return 0, 0, errDate
	}
	return daysFromCivil(year, mon, day)*86400 + int64(hh*3600+mm*60+ss) - int64(off), off, nil
}

func num2(a, b byte) (int, bool) {
	if a < '0' || a > '9' || b < '0' || b > '9' {
		return 0, false
	}
	return int(a-'0')*10 + int(b-'0'), true
}

// monthIndex maps "Jan".."Dec" (any case) to 1..12, 0 for anything else.
func monthIndex(a, b, c byte) int {
	const names = "janfebmaraprmayjunjulaugsepoctnovdec"
	a, b, c = a|0x20, b|0x20, c|0x20
	for i := 0; i < len(names); i += 3 {
		if names[i] == a && names[i+1] == b && names[i+2] == c {
			return i/3 + 1
		}
	}
	return 0
}

func daysIn(year, mon int) int {
	switch mon {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian date (Howard
// Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}

// parseISOTime parses RFC 3339 / ISO 8601 instants as nginx's $time_iso8601 and JSON logs write
// them ("2015-05-17T10:05:03+00:00", with optional fractions, "Z", or a space for the "T").
func parseISOTime(b []byte) (int64, int32, error) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return 0, 0, errTime
	}
	y1, ok1 := num2(b[0], b[1])
	y2, ok2 := num2(b[2], b[3])
	mon, ok3 := num2(b[5], b[6])
	day, ok4 := num2(b[8], b[9])
	hh, ok5 := num2(b[11], b[12])
	mm, ok6 := num2(b[14], b[15])
	ss, ok7 := num2(b[17], b[18])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return 0, 0, errTime
	}
	rest := b[19:]
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		rest = rest[i:]
	}
	var off int32
	switch {
	case len(rest) == 0 || (len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z')):
	case (rest[0] == '+' || rest[0] == '-') && (len(rest) == 6 && rest[3] == ':' || len(rest) == 5 || len(rest) == 3):
		oh, okh := num2(rest[1], rest[2])
		om, okm := 0, true
		if len(rest) == 6 {
			om, okm = num2(rest[4], rest[5])
		} else if len(rest) == 5 {
			om, okm = num2(rest[3], rest[4])
		}
		if !okh || !okm {
			return 0, 0, errTime
		}
		off = int32(oh*3600 + om*60)
		if rest[0] == '-' {
			off = -off
		}
	default:
		return 0, 0, errTime
	}
	return civil(y1*100+y2, mon, day, hh, mm, ss, off)
}

// parseEpoch parses "1431857103" or "1431857103.123" (nginx $msec, JSON numbers) as UTC.
func parseEpoch(b []byte) (int64, int32, error) {
	if i := indexByte(b, '.'); i >= 0 {
		b = b[:i]
	}
	n, ok := atoi(b)
	if !ok || len(b) < 9 || len(b) > 11 {
		return 0, 0, errTime
	}
	return n, 0, nil
}

// parseAnyTime accepts the CLF, ISO 8601 and epoch forms, for formats where the field's form is
// not fixed (JSON lines).
func parseAnyTime(b []byte) (int64, int32, error) {
	if len(b) == 28 && b[0] == '[' && b[27] == ']' {
		b = b[1:27]
	}
	switch {
	case len(b) == 26 && b[2] == '/':
		return parseCLFTime(b)
	case len(b) >= 19 && b[4] == '-':
		return parseISOTime(b)
	default:
		return parseEpoch(b)
	}
}

// dayOf returns the calendar day number (days since 1970-01-01) of an instant at its own offset.
func dayOf(unix int64, off int32) int32 {
	s := unix + int64(off)
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return int32(d)
}

// dayDate formats a day number as YYYY-MM-DD.
func dayDate(day int32) string {
	return time.Unix(int64(day)*86400, 0).UTC().Format(time.DateOnly)
}
