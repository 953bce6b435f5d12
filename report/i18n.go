package report

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// labels holds every heading and label in English and Chinese, by key.
var labels = map[string][2]string{
	"report":           {"Sunset report", "下线评估报告"},
	"assessment":       {"Impact assessment", "影响评估"},
	"state":            {"State", "状态"},
	"generated":        {"Generated", "生成时间"},
	"timezone":         {"Time zone", "时区"},
	"timeline":         {"Planned vs actual timeline", "计划与实际时间线"},
	"action":           {"Action", "动作"},
	"kind":             {"Kind", "类型"},
	"planned":          {"Planned", "计划时间"},
	"actual":           {"Actual", "实际时间"},
	"slip":             {"Slip", "偏差"},
	"status":           {"Status", "状态"},
	"done":             {"Done", "已完成"},
	"late":             {"Late", "延迟"},
	"pending":          {"Not run", "未执行"},
	"before_apply":     {"Skipped (before apply)", "跳过（早于应用计划）"},
	"skipped":          {"Skipped by an operator", "已由操作员跳过"},
	"max_slip":         {"Largest slip", "最大偏差"},
	"shifts":           {"Re-plans", "重新计划"},
	"by":               {"By", "操作人"},
	"reason":           {"Reason", "原因"},
	"at":               {"At", "时间"},
	"consumers":        {"Consumers and migration", "调用方与迁移"},
	"at_announcement":  {"Active at announcement", "公告时活跃"},
	"at_shutdown":      {"Active at shutdown", "关停时活跃"},
	"migrated":         {"Migrated", "已迁移"},
	"migrated_share":   {"Share migrated", "迁移比例"},
	"last_call":        {"Last call before shutdown", "关停前最后一次调用"},
	"days_to_zero":     {"Days from announcement to zero traffic", "公告至零流量天数"},
	"curve":            {"Migration curve (distinct consumers per day)", "迁移曲线（每日活跃调用方）"},
	"date":             {"Date", "日期"},
	"requests":         {"Requests", "请求数"},
	"notices":          {"Notices", "通知"},
	"channel":          {"Channel", "渠道"},
	"queued":           {"Queued", "排队"},
	"retrying":         {"Retrying", "重试中"},
	"held":             {"Held", "已暂扣"},
	"sent":             {"Sent", "发送中"},
	"delivered":        {"Delivered", "已送达"},
	"failed":           {"Failed", "失败"},
	"suppressed":       {"Suppressed", "已屏蔽"},
	"total":            {"Total", "合计"},
	"awareness":        {"Consumers aware", "已知晓的调用方"},
	"in_band":          {"Told in-band (Deprecation header)", "通过响应头告知"},
	"feedback":         {"Feedback", "用户反馈"},
	"messages":         {"Messages", "条数"},
	"negative_ratio":   {"Negative share", "负面比例"},
	"extension":        {"Requests for more time", "延期请求"},
	"themes":           {"Themes", "主题"},
	"survey":           {"Survey", "问卷"},
	"responses":        {"Responses", "回复数"},
	"satisfaction":     {"Mean satisfaction (1–5)", "平均满意度（1–5）"},
	"guardrails":       {"Guardrail trips and pauses", "护栏触发与暂停"},
	"trips":            {"Trips", "触发"},
	"pauses":           {"Pauses", "暂停"},
	"paused_total":     {"Total time paused", "暂停总时长"},
	"cause":            {"Cause", "原因类型"},
	"from":             {"From", "开始"},
	"until":            {"Until", "结束"},
	"duration":         {"Duration", "时长"},
	"runbook":          {"Runbook", "关停手册"},
	"step":             {"Step", "步骤"},
	"attempts":         {"Attempts", "尝试次数"},
	"stragglers":       {"Stragglers after shutdown", "关停后仍在调用的调用方"},
	"since":            {"Since", "自"},
	"consumer":         {"Consumer", "调用方"},
	"name":             {"Name", "名称"},
	"tier":             {"Tier", "等级"},
	"last_seen":        {"Last seen", "最近一次"},
	"features":         {"Features", "功能"},
	"unidentified":     {"Unidentified requests", "未识别请求"},
	"in_shutdown_hour": {"Of these, in the hour of the shutdown (some may precede it)", "其中关停所在小时内的请求（部分可能早于关停）"},
	"business":         {"Business impact", "业务影响"},
	"account":          {"Account", "客户"},
	"revenue":          {"Revenue", "收入"},
	"outcome":          {"Outcome", "结果"},
	"revenue_total":    {"Revenue, all accounts", "全部客户收入"},
	"revenue_lost":     {"Revenue lost (churned)", "流失收入"},
	"revenue_at_risk":  {"Revenue at risk", "风险收入"},
	"revenue_migr":     {"Revenue migrated", "已迁移收入"},
	"events":           {"Audit chain", "审计链"},
	"chain_ok":         {"Intact", "完整"},
	"chain_broken":     {"Broken", "已损坏"},
	"not_checked":      {"Not checked", "未校验"},
	"head":             {"Head", "链头"},
	"lessons":          {"Lessons learned", "经验教训"},
	"no_lessons":       {"None recorded yet.", "尚未记录。"},
	"none":             {"None.", "无。"},
	"window":           {"Usage looked at", "统计区间"},
	"milestones":       {"Milestones", "里程碑"},
	"milestone":        {"Milestone", "里程碑"},
	"active":           {"Consumers still active", "仍活跃的调用方"},
	"tiers":            {"By tier", "按等级"},
	"features_use":     {"Features in use", "在用功能"},
	"core":             {"Core", "核心"},
	"gone":             {"Gone", "下线时间"},
	"accounts":         {"Accounts and revenue at risk", "受影响客户与收入"},
	"at_risk":          {"At risk", "有风险"},
	"risks":            {"Risks", "风险"},
	"risk":             {"Risk", "风险"},
	"likelihood":       {"Likelihood", "可能性"},
	"impact":           {"Impact", "影响"},
	"mitigation":       {"Mitigation", "缓解措施"},
	"owner":            {"Owner", "负责人"},
	"stakeholders":     {"Stakeholders and sign-off", "干系人与签字"},
	"team":             {"Team", "团队"},
	"role":             {"Role", "角色"},
	"signed":           {"Signed off", "已签字"},
	"alternatives":     {"Alternatives", "替代方案"},
	"guide":            {"Guide", "迁移指南"},
	"yes":              {"yes", "是"},
	"no":               {"no", "否"},
	"guardrail":        {"guardrail", "护栏"},
	"operator":         {"operator", "操作员"},
	"still_paused":     {"still paused", "仍在暂停"},
	"churned":          {"churned", "流失"},
	"retained":         {"retained", "保留（未受影响）"},
	"at_risk_o":        {"at risk (still calling)", "有风险（仍在调用）"},
	"migrated_o":       {"migrated", "已迁移"},
	"held_back":        {"Held back", "阻止的动作"},
	"reaction":         {"Reaction", "反应"},
	"then_pause":       {"paused", "已暂停"},
	"then_notify":      {"owners warned", "已提醒负责人"},
	"n_consumers":      {"Consumers", "调用方"},
	"n_guardrails":     {"Guardrails", "护栏"},
	"n_events":         {"Events", "事件数"},
	"at_risk_l":        {"at risk", "有风险"},
	"moods":            {"Positive / neutral / negative", "正面 / 中性 / 负面"},
}

// t returns the label key in lang ("zh..." is Chinese, anything else English).
func t(lang, key string) string {
	l, ok := labels[key]
	if !ok {
		return key
	}
	if strings.HasPrefix(lang, "zh") {
		return l[1]
	}
	return l[0]
}

// outcomeLabel names an account outcome in lang.
func outcomeLabel(lang, o string) string {
	switch o {
	case AtRisk:
		return t(lang, "at_risk_o")
	case Migrated:
		return t(lang, "migrated_o")
	}
	return t(lang, o)
}

// instant shows t in loc to the minute; "—" for zero.
func instant(ts time.Time, loc *time.Location) string {
	if ts.IsZero() {
		return "—"
	}
	return ts.In(loc).Format("2006-01-02 15:04 MST")
}

// instantSeconds is instant to the second: a request's time, as last seen is.
func instantSeconds(ts time.Time, loc *time.Location) string {
	if ts.IsZero() {
		return "—"
	}
	return ts.In(loc).Format("2006-01-02 15:04:05 MST")
}

// seconds shows a duration of s seconds compactly: "3d 4h", "2h 5m", "45s", "−10m".
func seconds(s int64) string {
	if s < 0 {
		return "−" + seconds(-s)
	}
	d := time.Duration(s) * time.Second
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd %dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dm", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm %ds", d/time.Minute, (d%time.Minute)/time.Second)
	}
	return fmt.Sprintf("%ds", s)
}

// percent shows a ratio as a whole percentage.
func percent(r float64) string { return fmt.Sprintf("%.0f%%", math.Round(r*100)) }

// money shows an amount with two decimals and thousands separators.
func money(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String() + "." + frac
	if neg {
		out = "-" + out
	}
	return out
}

// location loads a time zone name, UTC when unknown.
func location(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}
