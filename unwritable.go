package sunset

import (
	"errors"
	"fmt"
)

// Codes of the storage failures: the database refused a write for a reason outside the request.
// They are shown like the codes of errors.go (errors.As finds an *Error with one of them in an
// *UnwritableError).
const (
	EFULL       = "storage_full"       // the disk that holds the database is full
	EUNWRITABLE = "storage_unwritable" // the database is read-only, failing or not accepting work
)

// ErrUnwritable is what every *UnwritableError is (errors.Is): the database cannot be written
// now, whatever the reason.
var ErrUnwritable = errors.New("the database cannot be written")

// UnwritableReason says why the database cannot be written.
type UnwritableReason string

// The reasons an *UnwritableError gives.
const (
	// ReasonFull: the disk (or the size limit) of the database is reached.
	ReasonFull UnwritableReason = "full"
	// ReasonReadOnly: the database file, the connection or the PostgreSQL server refuses writes
	// (a file without write permission, a hot standby, default_transaction_read_only).
	ReasonReadOnly UnwritableReason = "read_only"
	// ReasonIO: the disk reported an input/output error.
	ReasonIO UnwritableReason = "io_error"
	// ReasonUnavailable: the database server is not accepting work now (starting, shutting
	// down, out of connections or memory, unreachable).
	ReasonUnavailable UnwritableReason = "unavailable"
)

// UnwritableError is a storage failure, as the store classifies a driver's error: nothing of the
// request that met it was stored (its transaction rolled back) and earlier data is intact, so the
// same request succeeds once the cause is removed. Err is the driver's error, for logs.
//
// errors.As finds an *Error in it, of code EFULL (ReasonFull) or EUNWRITABLE (the others), whose
// message is Message("en"); errors.Is(err, ErrUnwritable) holds.
type UnwritableError struct {
	Reason UnwritableReason
	// Code is the driver's name for the condition: "SQLITE_FULL", "53100 disk_full"…
	Code string
	// Where names the database for an operator: the SQLite file's path, or "PostgreSQL".
	Where string
	// File is true when Where is a file on this machine (SQLite).
	File bool
	Err  error
}

// Error returns the English message followed by the driver's error.
func (e *UnwritableError) Error() string {
	if e.Err == nil {
		return e.Message("en")
	}
	return e.Message("en") + " (" + e.Err.Error() + ")"
}

// Unwrap returns the driver's error.
func (e *UnwritableError) Unwrap() error { return e.Err }

// Is reports whether target is ErrUnwritable.
func (e *UnwritableError) Is(target error) bool { return target == ErrUnwritable }

// As sets an **Error target to the error as users see it: code EFULL or EUNWRITABLE, the English
// message.
func (e *UnwritableError) As(target any) bool {
	t, ok := target.(**Error)
	if !ok {
		return false
	}
	*t = &Error{Code: e.ErrorCode(), Message: e.Message("en")}
	return true
}

// ErrorCode returns EFULL for a full disk and EUNWRITABLE otherwise.
func (e *UnwritableError) ErrorCode() string {
	if e.Reason == ReasonFull {
		return EFULL
	}
	return EUNWRITABLE
}

// Message says in lang ("en", or "zh" for Simplified Chinese) that the database cannot be
// written, why, what to do, and that nothing was lost.
func (e *UnwritableError) Message(lang string) string {
	zh := lang == "zh" || lang == "zh-Hans" || lang == "zh-CN"
	code := e.Code
	if code == "" {
		code = string(e.Reason)
	}
	var why, fix string
	switch {
	case zh && e.Reason == ReasonFull && e.File:
		why, fix = "磁盘已满", fmt.Sprintf("请在存放 %s 的磁盘上腾出空间", e.Where)
	case zh && e.Reason == ReasonFull:
		why, fix = "数据库服务器的磁盘已满", "请在数据库服务器上腾出空间"
	case zh && e.Reason == ReasonReadOnly && e.File:
		why, fix = "数据库文件只读", fmt.Sprintf("请确认 sunset 进程可以写入 %s 及其所在目录", e.Where)
	case zh && e.Reason == ReasonReadOnly:
		why, fix = "PostgreSQL 拒绝写入（只读副本或 default_transaction_read_only 已开启）", "请让 --db 指向主库"
	case zh && e.Reason == ReasonIO:
		why, fix = "磁盘报告了输入/输出错误", "请检查存放数据库的磁盘"
	case zh:
		why, fix = "数据库目前不接受请求", "请稍候片刻"
	case e.Reason == ReasonFull && e.File:
		why, fix = "its disk is full", "free space on the disk that holds "+e.Where
	case e.Reason == ReasonFull:
		why, fix = "the database server's disk is full", "free space on the database server"
	case e.Reason == ReasonReadOnly && e.File:
		why, fix = "the database file is read-only", "make "+e.Where+" and its folder writable by the sunset process"
	case e.Reason == ReasonReadOnly:
		why, fix = "PostgreSQL refuses writes (a read-only replica, or default_transaction_read_only is on)", "point --db at the primary"
	case e.Reason == ReasonIO:
		why, fix = "the disk reported an input/output error", "check the disk that holds the database"
	default:
		why, fix = "the database is not accepting work now", "wait a moment"
	}
	if zh {
		return fmt.Sprintf("数据库无法写入：%s（%s）。%s。您提交的内容没有保存，之前的数据也没有丢失：问题解决后请重新提交。", why, code, fix)
	}
	return fmt.Sprintf("The database cannot be written: %s (%s). To fix it, %s. Nothing you sent was stored and no earlier data was lost: send it again once this is fixed.", why, code, fix)
}
