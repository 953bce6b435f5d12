package main

import "fmt"

// rehearsalMessages are the live progress's sentences as printf formats, in English and
// Simplified Chinese (--lang picks one, for the progress and the report alike).
var rehearsalMessages = map[string][2]string{
	"stage":     {"Rehearsing %s (%s) on scratch data; nothing real is touched.\n", "演练 %s（%s），在临时数据上运行；不会触碰任何真实端点。\n"},
	"time":      {"  time       %s → %s at %.0f× (Ctrl-C stops and writes the report so far)\n", "  时间       %s → %s，%.0f 倍速（Ctrl-C 停止并写出已播放部分的报告）\n"},
	"gateway":   {"  gateway    %s → sample upstream; API and public pages on %s\n", "  网关       %s → 示例上游；API 与公开页面在 %s\n"},
	"consumers": {"  consumers  %s\n", "  模拟用户   %s\n"},
	"noContacts": {"             (the plan names no contacts file: these consumers are anonymous and no notice reaches them)\n",
		"             （计划未指定联系人文件：这些模拟用户是匿名的，收不到通知）\n"},
	"none":      {"none", "无"},
	"replaced":  {"  replaced   (the plan's real endpoints are refused in a rehearsal)\n", "  已替换     （演练中拒绝使用计划中的真实端点）\n"},
	"signoffs":  {"  sign-offs  %s, by rehearsal stand-ins (recorded as such)\n", "  签字       %s，由演练替身签署（如实记录）\n"},
	"approvals": {"  approvals  granted by \"rehearsal approver N\" and recorded under that name\n", "  审批       由“rehearsal approver N”授予，并以该名义记录\n"},
	"milestone": {"%s  %-11s answers while %s: 2xx %d · 3xx %d · 410 %d · 503 %d   notices delivered %d   migrated %d/%d\n",
		"%s  %-11s %s 阶段的响应：2xx %d · 3xx %d · 410 %d · 503 %d   已送达通知 %d   已迁移 %d/%d\n"},
	"quiet":         {"%s  … quiet until %s, skipped\n", "%s  … 空闲至 %s，已跳过\n"},
	"paused":        {"%s  PAUSED      %s; the rehearsal resumes it one simulated day later\n", "%s  已暂停      %s；演练将在一个模拟日后恢复\n"},
	"tripped":       {"guardrail tripped: %s", "护栏触发：%s"},
	"tripGuardrail": {"%s (%s; value %.2f)", "%s（%s；当前值 %.2f）"},
	"resumed":       {"%s  resumed     by the rehearsal\n", "%s  已恢复      （由演练恢复）\n"},
	"step":          {"%s  runbook     %s: %s", "%s  运行手册    %s：%s"},
	"approved":      {"%s  runbook     %s: approved by %s (rehearsal)\n", "%s  运行手册    %s：由 %s 批准（演练）\n"},
	"operator":      {"%s  runbook     %s: %s; the rehearsal plays on without it\n", "%s  运行手册    %s：%s；演练继续进行\n"},
	"played":        {"Played %.0f simulated days in %.1f s.\n", "播放了 %.0f 个模拟日，用时 %.1f 秒。\n"},
	"milestones":    {"  milestones reached   %s\n", "  到达的里程碑         %s\n"},
	"answers":       {"  gateway answers      phase          2xx    3xx    410    503  other\n", "  网关响应             阶段           2xx    3xx    410    503  其他\n"},
	"notices":       {"  notices delivered    %d (email %d, webhook %d, chat %d)\n", "  已送达通知           %d（邮件 %d，Webhook %d，聊天 %d）\n"},
	"migrated":      {"  consumers migrated   %d of %d (%d requests to the alternative's stand-in); feedback posts %d%s\n", "  已迁移用户           %d / %d（向替代服务替身发出 %d 个请求）；反馈 %d 条%s\n"},
	"pauses":        {"  guardrail pauses     %d\n", "  护栏暂停             %d 次\n"},
	"runbook":       {"  runbook              %s; stand-ins called: %s\n", "  运行手册             %s；调用的替身：%s\n"},
	"notStarted":    {"not started", "未开始"},
	"refused":       {"%s  feedback from %s refused: %s %s\n", "%s  %s 的反馈被拒绝：%s %s\n"},
	"lessonsHead": {"**This report comes from a rehearsal** (sunset rehearse, %s): synthetic consumers, local sinks and scratch data, not a real shutdown. What the rehearsal found:",
		"**本报告来自一次演练**（sunset rehearse，%s）：模拟用户、本地接收端和临时数据，并非真实下线。演练的发现："},
	"lessonsPause":    {"guardrail pause at %s; the rehearsal resumed it a simulated day later", "护栏暂停于 %s；演练在一个模拟日后恢复"},
	"lessonsRunbook":  {"runbook: %s", "运行手册：%s"},
	"lessonsMigrated": {"consumers migrated: %d of %d", "已迁移用户：%d / %d"},
	"lessonsNotices":  {"notices delivered to the local sinks: %d (email %d, webhook %d, chat %d)", "送达本地接收端的通知：%d（邮件 %d，Webhook %d，聊天 %d）"},
	"lessonsReplaced": {"%d real endpoints, data sources or commands of the plan were replaced by local stand-ins", "计划中 %d 个真实端点、数据源或命令被替换为本地替身"},
	"written":         {"Report written to %s\n", "报告已写入 %s\n"},
	"kept":            {"Scratch directory kept: %s\n", "临时目录已保留：%s\n"},
	"interrupted":     {"rehearsal interrupted at %s; the report covers what was played", "演练在 %s 被中断；报告涵盖已播放的部分"},
	"runbookEnded":    {"the runbook ended %s; the report says where and why", "运行手册以 %s 状态结束；报告中写明了位置和原因"},
}

// msg returns the format of key in the rehearsal's language.
func (r *rehearsal) msg(key string) string {
	pair, ok := rehearsalMessages[key]
	if !ok {
		return key
	}
	if r.lang == "zh" {
		return pair[1]
	}
	return pair[0]
}

// printf prints the progress sentence key.
func (r *rehearsal) printf(key string, args ...any) {
	fmt.Fprintf(r.out, r.msg(key), args...)
}
