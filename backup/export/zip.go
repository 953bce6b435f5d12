package export

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Data is one user's data as fetched: raw JSON (an HTTP answer) or rows (an SQL query).
type Data struct {
	// JSON is the answer of an HTTP source, when it is JSON.
	JSON json.RawMessage
	// Raw is the answer of an HTTP source that is not JSON, kept as it came, with its type.
	Raw         []byte
	ContentType string
	// Columns and Rows are the result of an SQL source.
	Columns []string
	Rows    [][]any
}

// Package builds the zip of one user's export: data.json and data.csv (or the raw answer),
// and README.txt in the user's language (zh or en).
func Package(service, userID, locale string, d *Data, now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, b []byte) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	files := []string{}
	switch {
	case d.Columns != nil:
		objs := make([]map[string]any, 0, len(d.Rows))
		for _, r := range d.Rows {
			o := map[string]any{}
			for i, c := range d.Columns {
				o[c] = jsonValue(r[i])
			}
			objs = append(objs, o)
		}
		j, err := json.MarshalIndent(objs, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := add("data.json", j); err != nil {
			return nil, err
		}
		if err := add("data.csv", toCSV(d.Columns, d.Rows)); err != nil {
			return nil, err
		}
		files = append(files, "data.json", "data.csv")
	case d.JSON != nil:
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, d.JSON, "", "  "); err != nil {
			pretty.Reset()
			pretty.Write(d.JSON)
		}
		if err := add("data.json", pretty.Bytes()); err != nil {
			return nil, err
		}
		cols, rows := flatten(d.JSON)
		if err := add("data.csv", toCSV(cols, rows)); err != nil {
			return nil, err
		}
		files = append(files, "data.json", "data.csv")
	default:
		name := "data" + extension(d.ContentType)
		if err := add(name, d.Raw); err != nil {
			return nil, err
		}
		files = append(files, name)
	}
	if err := add("README.txt", []byte(Readme(service, userID, locale, files, now))); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Readme is the README of an export in the user's language: Simplified Chinese for zh*, else
// English.
func Readme(service, userID, locale string, files []string, now time.Time) string {
	list := strings.Join(files, ", ")
	if strings.HasPrefix(strings.ToLower(locale), "zh") {
		return fmt.Sprintf(`您在 %s 的数据

此压缩包包含用户 %s 的全部数据，导出时间 %s（UTC）。

文件：%s
- data.json：完整数据，JSON 格式，可导入其他服务。
- data.csv：同样的数据，表格格式，可用 Excel 或 WPS 打开。

%s 即将停止服务。请妥善保存此文件；下载链接只对您有效，并会在到期后失效。
`, service, userID, now.UTC().Format("2006-01-02 15:04"), list, service)
	}
	return fmt.Sprintf(`Your data from %s

This archive holds all the data of user %s, exported at %s UTC.

Files: %s
- data.json: the complete data as JSON, which other services can import.
- data.csv: the same data as a table, for spreadsheets.

%s is being retired. Keep this file safe; your download link works only for you and expires.
`, service, userID, now.UTC().Format("2006-01-02 15:04"), list, service)
}

func extension(ct string) string {
	switch {
	case strings.HasPrefix(ct, "text/csv"):
		return ".csv"
	case strings.HasPrefix(ct, "text/"):
		return ".txt"
	case strings.HasPrefix(ct, "application/xml"), strings.HasPrefix(ct, "text/xml"):
		return ".xml"
	}
	return ".bin"
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return v
}

func cell(v any) string {
	switch x := jsonValue(v).(type) {
	case nil:
		return ""
	case string:
		return x
	case float64, int64, int, bool, json.Number:
		return fmt.Sprint(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// toCSV writes columns and rows as CSV. A cell that a spreadsheet would run as a formula gets a
// leading apostrophe.
func toCSV(cols []string, rows [][]any) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(cols)
	rec := make([]string, len(cols))
	for _, r := range rows {
		for i := range cols {
			s := ""
			if i < len(r) {
				s = cell(r[i])
			}
			if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
				s = "'" + s
			}
			rec[i] = s
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}

// flatten turns JSON into a table: an array of objects gives one row per object (the union of
// their keys as columns); an object whose values include an array of objects uses the first
// such array; any other object gives key,value rows; a scalar one row.
func flatten(raw json.RawMessage) ([]string, [][]any) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return []string{"value"}, [][]any{{string(raw)}}
	}
	if obj, ok := v.(map[string]any); ok {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if arr, ok := obj[k].([]any); ok && len(arr) > 0 {
				if _, isObj := arr[0].(map[string]any); isObj {
					return table(arr)
				}
			}
		}
		rows := make([][]any, 0, len(keys))
		for _, k := range keys {
			rows = append(rows, []any{k, obj[k]})
		}
		return []string{"key", "value"}, rows
	}
	if arr, ok := v.([]any); ok {
		return table(arr)
	}
	return []string{"value"}, [][]any{{v}}
}

func table(arr []any) ([]string, [][]any) {
	var cols []string
	seen := map[string]bool{}
	for _, e := range arr {
		if o, ok := e.(map[string]any); ok {
			keys := make([]string, 0, len(o))
			for k := range o {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if !seen[k] {
					seen[k] = true
					cols = append(cols, k)
				}
			}
		}
	}
	if cols == nil {
		cols = []string{"value"}
	}
	rows := make([][]any, 0, len(arr))
	for _, e := range arr {
		o, ok := e.(map[string]any)
		if !ok {
			rows = append(rows, []any{e})
			continue
		}
		r := make([]any, len(cols))
		for i, c := range cols {
			r[i] = o[c]
		}
		rows = append(rows, r)
	}
	return cols, rows
}

// BlobKey is where a user's zip is kept at the destination: exports/SUNSET/NAME-HASH.zip, where
// NAME keeps only safe characters of the id and HASH is derived from the whole id, so no id can
// name a key outside the sunset's folder or collide with another.
func BlobKey(sunset, userID string) string {
	var b strings.Builder
	for _, r := range userID {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	sum := sha256.Sum256([]byte(userID))
	return "exports/" + safeSegment(sunset) + "/" + b.String() + "-" + hex.EncodeToString(sum[:8]) + ".zip"
}

func safeSegment(s string) string {
	out := []byte(s)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			out[i] = '_'
		}
	}
	if len(out) == 0 || out[0] == '.' {
		return "_"
	}
	return string(out)
}
