package notify

import "github.com/sunsetops/sunset/plan"

// Builtin holds the built-in templates (plan.BuiltinTemplates), in English and Simplified
// Chinese, good enough to send unchanged. A plan's own templates of the same name replace them.
var Builtin = map[string]plan.Template{
	"announce": {
		EN: &plan.Message{
			Subject: "{{.Service.Title}} will be shut down on {{.Milestones.shutdown}}",
			Body: `Hello {{.Recipient.Name}},

We are retiring {{.Service.Title}}. It will stop working on {{.Milestones.shutdown}} (times are in {{.Recipient.TimeZone}}).
{{- if .Milestones.read_only}}
From {{.Milestones.read_only}} it will be read-only: changes will be refused.{{end}}
{{- range .Features}}
- {{.Title}} {{if .Redirect}}moves on {{.Gone}}: calls are redirected to {{.Redirect}}.{{else}}goes away on {{.Gone}}.{{end}}{{end}}
{{if .Alternative.Name}}
Please move to {{.Alternative.Name}}: {{.Alternative.URL}}
{{- if .Alternative.Guide}}
Migration guide: {{.Alternative.Guide}}{{end}}{{end}}
{{- if .Usage.Known}}

You made {{.Usage.CallsLastWeek}} calls last week{{if .Usage.Features}} (features: {{range $i, $f := .Usage.Features}}{{if $i}}, {{end}}{{$f}}{{end}}){{end}}.{{end}}
{{- if .Recipient.ExportURL}}

Download your data: {{.Recipient.ExportURL}}{{end}}

Status and dates: {{.Links.Status}}
Questions or concerns: {{.Links.Feedback}}
`,
		},
		ZH: &plan.Message{
			Subject: "{{.Service.Title}}将于 {{.Milestones.shutdown}} 停止服务",
			Body: `{{.Recipient.Name}}，您好：

{{.Service.Title}}即将下线，将于 {{.Milestones.shutdown}} 停止服务。
{{- if .Milestones.read_only}}
自 {{.Milestones.read_only}} 起服务将变为只读，不再接受修改。{{end}}
{{- range .Features}}
- {{.Title}}{{if .Redirect}}将于 {{.Gone}} 迁移：调用将被重定向到 {{.Redirect}}。{{else}}将于 {{.Gone}} 下线。{{end}}{{end}}
{{if .Alternative.Name}}
请迁移到{{.Alternative.Name}}：{{.Alternative.URL}}
{{- if .Alternative.Guide}}
迁移指南：{{.Alternative.Guide}}{{end}}{{end}}
{{- if .Usage.Known}}

您上周调用了 {{.Usage.CallsLastWeek}} 次{{if .Usage.Features}}（功能：{{range $i, $f := .Usage.Features}}{{if $i}}、{{end}}{{$f}}{{end}}）{{end}}。{{end}}
{{- if .Recipient.ExportURL}}

下载您的数据：{{.Recipient.ExportURL}}{{end}}

状态与日程：{{.Links.Status}}
问题与反馈：{{.Links.Feedback}}
`,
		},
	},
	"reminder": {
		EN: &plan.Message{
			Subject: "Reminder: {{.Service.Title}} stops on {{.Milestones.shutdown}}",
			Body: `Hello {{.Recipient.Name}},

A reminder: {{.Service.Title}} stops working on {{.Milestones.shutdown}}.
{{- if .Alternative.Name}} Please move to {{.Alternative.Name}} before then: {{if .Alternative.Guide}}{{.Alternative.Guide}}{{else}}{{.Alternative.URL}}{{end}}{{end}}
{{- if .Usage.Known}}

You still made {{.Usage.CallsLastWeek}} calls last week.{{end}}

Status and dates: {{.Links.Status}}
Questions or concerns: {{.Links.Feedback}}
`,
		},
		ZH: &plan.Message{
			Subject: "提醒：{{.Service.Title}}将于 {{.Milestones.shutdown}} 停止服务",
			Body: `{{.Recipient.Name}}，您好：

特此提醒：{{.Service.Title}}将于 {{.Milestones.shutdown}} 停止服务。
{{- if .Alternative.Name}}请在此之前迁移到{{.Alternative.Name}}：{{if .Alternative.Guide}}{{.Alternative.Guide}}{{else}}{{.Alternative.URL}}{{end}}{{end}}
{{- if .Usage.Known}}

您上周仍调用了 {{.Usage.CallsLastWeek}} 次。{{end}}

状态与日程：{{.Links.Status}}
问题与反馈：{{.Links.Feedback}}
`,
		},
	},
	"final_reminder": {
		EN: &plan.Message{
			Subject: "Final reminder: {{.Service.Title}} stops on {{.Milestones.shutdown}}",
			Body: `Hello {{.Recipient.Name}},

This is the last reminder: {{.Service.Title}} stops on {{.Milestones.shutdown}}. After that, calls will fail.
{{- if .Alternative.Name}}
Move to {{.Alternative.Name}} now: {{if .Alternative.Guide}}{{.Alternative.Guide}}{{else}}{{.Alternative.URL}}{{end}}{{end}}
{{- if .Recipient.ExportURL}}
Download your data: {{.Recipient.ExportURL}}{{end}}

If you cannot move in time, tell us now: {{.Links.Feedback}}
`,
		},
		ZH: &plan.Message{
			Subject: "最后提醒：{{.Service.Title}}将于 {{.Milestones.shutdown}} 停止服务",
			Body: `{{.Recipient.Name}}，您好：

这是最后一次提醒：{{.Service.Title}}将于 {{.Milestones.shutdown}} 停止服务，届时所有调用都将失败。
{{- if .Alternative.Name}}
请立即迁移到{{.Alternative.Name}}：{{if .Alternative.Guide}}{{.Alternative.Guide}}{{else}}{{.Alternative.URL}}{{end}}{{end}}
{{- if .Recipient.ExportURL}}
下载您的数据：{{.Recipient.ExportURL}}{{end}}

如果无法按时迁移，请立即告诉我们：{{.Links.Feedback}}
`,
		},
	},
	"feature_retired": {
		EN: &plan.Message{
			Subject: "Parts of {{.Service.Title}} are being retired",
			Body: `Hello {{.Recipient.Name}},

These parts of {{.Service.Title}} are retired before the rest of the service:
{{- range .Features}}
- {{.Title}}: from {{.Gone}}{{if .Redirect}}, calls redirected to {{.Redirect}}{{end}}{{end}}

The whole service stops on {{.Milestones.shutdown}}.
{{- if .Alternative.Name}} Its replacement is {{.Alternative.Name}}: {{.Alternative.URL}}{{end}}

Status and dates: {{.Links.Status}}
`,
		},
		ZH: &plan.Message{
			Subject: "{{.Service.Title}}的部分功能即将下线",
			Body: `{{.Recipient.Name}}，您好：

{{.Service.Title}}的以下功能将先于整个服务下线：
{{- range .Features}}
- {{.Title}}：自 {{.Gone}} 起{{if .Redirect}}，调用将被重定向到 {{.Redirect}}{{end}}{{end}}

整个服务将于 {{.Milestones.shutdown}} 停止。
{{- if .Alternative.Name}}替代服务为{{.Alternative.Name}}：{{.Alternative.URL}}{{end}}

状态与日程：{{.Links.Status}}
`,
		},
	},
	"schedule_changed": {
		EN: &plan.Message{
			Subject: "The schedule for retiring {{.Service.Title}} has changed",
			Body: `Hello {{.Recipient.Name}},

The dates for retiring {{.Service.Title}} have changed:
{{- range .Changes}}
- {{.Milestone}}: {{if .From}}{{.From}} → {{end}}{{.To}}{{end}}

The service now stops on {{.Milestones.shutdown}}.

Status and dates: {{.Links.Status}}
`,
		},
		ZH: &plan.Message{
			Subject: "{{.Service.Title}}的下线日程已变更",
			Body: `{{.Recipient.Name}}，您好：

{{.Service.Title}}的下线日程有以下变更：
{{- range .Changes}}
- {{.Milestone}}：{{if .From}}{{.From}} → {{end}}{{.To}}{{end}}

服务现将于 {{.Milestones.shutdown}} 停止。

状态与日程：{{.Links.Status}}
`,
		},
	},
	"brownout_ahead": {
		EN: &plan.Message{
			Subject: "Planned interruptions of {{.Service.Title}} before its shutdown",
			Body: `Hello {{.Recipient.Name}},

Before {{.Service.Title}} stops on {{.Milestones.shutdown}}, it will fail on purpose for short, scheduled periods (brownouts), so that anything still depending on it shows up now rather than on the last day.
{{- if .Alternative.Name}}
Move to {{.Alternative.Name}} to avoid them: {{if .Alternative.Guide}}{{.Alternative.Guide}}{{else}}{{.Alternative.URL}}{{end}}{{end}}

Schedule: {{.Links.Status}}
`,
		},
		ZH: &plan.Message{
			Subject: "{{.Service.Title}}下线前的计划性中断",
			Body: `{{.Recipient.Name}}，您好：

在 {{.Milestones.shutdown}} 停止服务之前，{{.Service.Title}}会按计划短时中断（限流演练），以便尽早发现仍依赖它的系统。
{{- if .Alternative.Name}}
迁移到{{.Alternative.Name}}即可避免影响：{{if .Alternative.Guide}}{{.Alternative.Guide}}{{else}}{{.Alternative.URL}}{{end}}{{end}}

中断时间表：{{.Links.Status}}
`,
		},
	},
	"action_stalled": {
		EN: &plan.Message{
			Subject: "Action failing: the sunset of {{.Service.Title}} is paused",
			Body: `Hello {{.Recipient.Name}},

The sunset of {{.Service.Title}} paused itself: its action {{.Task.Key}} ({{.Task.Name}}, due {{.Task.At}}) failed {{.Failure.Attempts}} times in a row, and the actions after it wait for it.

Last error: {{.Failure.Error}}

Fix the cause and resume (sunset resume {{.Service.Name}} --reason "..."), which tries it again, or skip it (sunset skip {{.Service.Name}} --action {{.Task.Key}} --reason "...").
Shutdown is planned for {{.Milestones.shutdown}}.

Status: {{.Links.Status}}
`,
		},
		ZH: &plan.Message{
			Subject: "动作失败：{{.Service.Title}}的下线已暂停",
			Body: `{{.Recipient.Name}}，您好：

{{.Service.Title}}的下线已自动暂停：动作 {{.Task.Key}}（{{.Task.Name}}，计划于 {{.Task.At}}）连续失败 {{.Failure.Attempts}} 次，其后的动作都在等待它。

最近一次错误：{{.Failure.Error}}

请排除原因后恢复（sunset resume {{.Service.Name}} --reason "..."），恢复时会重试该动作；或跳过它（sunset skip {{.Service.Name}} --action {{.Task.Key}} --reason "..."）。
计划停止服务时间：{{.Milestones.shutdown}}。

状态：{{.Links.Status}}
`,
		},
	},
	"guardrail_tripped": {
		EN: &plan.Message{
			Subject: "Guardrail tripped: the sunset of {{.Service.Title}} is paused",
			Body: `Hello {{.Recipient.Name}},

A guardrail paused the sunset of {{.Service.Title}} before its next step. Nothing more happens to users until someone resumes it.
{{range .Guardrails}}
- {{.Condition}}: measured {{.Value}}{{if .Name}} ({{.Name}}){{end}}{{end}}

Look at the feedback and the consumers still calling, then resume (sunset resume {{.Service.Name}} --reason "...") or re-plan.
Shutdown is planned for {{.Milestones.shutdown}}.

Status: {{.Links.Status}}
Feedback: {{.Links.Feedback}}
`,
		},
		ZH: &plan.Message{
			Subject: "护栏触发：{{.Service.Title}}的下线已暂停",
			Body: `{{.Recipient.Name}}，您好：

一条护栏在下一步之前暂停了{{.Service.Title}}的下线。在有人恢复之前，不会再对用户采取任何动作。
{{range .Guardrails}}
- {{.Condition}}：测得 {{.Value}}{{if .Name}}（{{.Name}}）{{end}}{{end}}

请查看用户反馈和仍在调用的消费者，然后恢复（sunset resume {{.Service.Name}} --reason "..."）或重新规划。
计划停止服务时间：{{.Milestones.shutdown}}。

状态：{{.Links.Status}}
反馈：{{.Links.Feedback}}
`,
		},
	},
	"delivery_alert": {
		EN: &plan.Message{
			Subject: `{{if eq .Alert.Kind "down"}}Channel down: {{.Alert.Channel}}{{else}}Notice late: {{.Alert.Notice}} over {{.Alert.Channel}}{{end}} ({{.Service.Title}} sunset)`,
			Body: `Hello {{.Recipient.Name}},

{{if eq .Alert.Kind "down"}}The {{.Alert.Channel}} channel of the sunset of {{.Service.Title}} has been failing since {{.Alert.Since}}: its circuit breaker is open and its deliveries wait.{{else}}Notice {{.Alert.Notice}} of the sunset of {{.Service.Title}} has not reached everyone over {{.Alert.Channel}}: it is late since {{.Alert.Since}}.{{end}}

  {{.Alert.Count}} deliveries of {{.Alert.Notice}} over {{.Alert.Channel}} are waiting.{{if .Alert.LastError}}
  Last error: {{.Alert.LastError}}{{end}}

Users may not hear about the shutdown in time. Check the channel's settings and the server it sends to, then follow the deliveries with: sunset notify status {{.Service.Name}}
If the delay matters, hold the next step: sunset pause {{.Service.Name}} --reason "...".
You get this alert once for this {{if eq .Alert.Kind "down"}}outage{{else}}notice and channel{{end}}.

Status: {{.Links.Status}}
`,
		},
		ZH: &plan.Message{
			Subject: `{{if eq .Alert.Kind "down"}}渠道中断：{{.Alert.Channel}}{{else}}通知延迟：{{.Alert.Notice}}（{{.Alert.Channel}}）{{end}}（{{.Service.Title}}下线）`,
			Body: `{{.Recipient.Name}}，您好：

{{if eq .Alert.Kind "down"}}{{.Service.Title}}下线计划的 {{.Alert.Channel}} 渠道自 {{.Alert.Since}} 起持续失败：熔断器已打开，该渠道的投递都在等待。{{else}}{{.Service.Title}}下线计划的通知 {{.Alert.Notice}} 尚未通过 {{.Alert.Channel}} 送达所有人：自 {{.Alert.Since}} 起已延迟。{{end}}

  {{.Alert.Notice}} 通过 {{.Alert.Channel}} 还有 {{.Alert.Count}} 条投递在等待。{{if .Alert.LastError}}
  最近一次错误：{{.Alert.LastError}}{{end}}

用户可能无法及时得知下线消息。请检查该渠道的设置及其发送目标服务器，然后用以下命令跟踪投递：sunset notify status {{.Service.Name}}
如延迟影响较大，可暂停下一步：sunset pause {{.Service.Name}} --reason "..."。
对于此{{if eq .Alert.Kind "down"}}次中断{{else}}通知与渠道{{end}}，您只会收到一次此提醒。

状态：{{.Links.Status}}
`,
		},
	},
	"guardrail_warning": {
		EN: &plan.Message{
			Subject: "Guardrail warning: {{.Service.Title}} sunset needs a look",
			Body: `Hello {{.Recipient.Name}},

A guardrail of the sunset of {{.Service.Title}} has tripped. Its reaction is to tell you, not to pause: the sunset goes on as planned.
{{range .Guardrails}}
- {{.Condition}}: measured {{.Value}}{{if .Name}} ({{.Name}}){{end}}{{end}}

Look at the feedback and the consumers still calling. To hold the next step: sunset pause {{.Service.Name}} --reason "...".
You hear about this guardrail at most once a day while it stays tripped.
Shutdown is planned for {{.Milestones.shutdown}}.

Status: {{.Links.Status}}
Feedback: {{.Links.Feedback}}
`,
		},
		ZH: &plan.Message{
			Subject: "护栏警告：{{.Service.Title}}的下线需要关注",
			Body: `{{.Recipient.Name}}，您好：

{{.Service.Title}}下线计划中的一条护栏已触发。它的反应是通知您，而不是暂停：下线按计划继续。
{{range .Guardrails}}
- {{.Condition}}：测得 {{.Value}}{{if .Name}}（{{.Name}}）{{end}}{{end}}

请查看用户反馈和仍在调用的消费者。如需暂停下一步：sunset pause {{.Service.Name}} --reason "..."。
只要这条护栏一直处于触发状态，您每天最多收到一次此提醒。
计划停止服务时间：{{.Milestones.shutdown}}。

状态：{{.Links.Status}}
反馈：{{.Links.Feedback}}
`,
		},
	},
	"task": {
		EN: &plan.Message{
			Subject: `Task reminder: {{if eq .Task.Kind "milestone"}}milestone {{.Task.Name}}{{else if eq .Task.Kind "notice"}}notice {{.Task.Name}}{{else if eq .Task.Kind "runbook"}}the shutdown runbook{{else if eq .Task.Kind "data"}}data deletion{{else if eq .Task.Kind "brownout"}}a brownout{{else}}feature {{.Task.Name}} changes phase{{end}} on {{.Task.At}} ({{.Service.Title}} sunset)`,
			Body: `Hello {{.Recipient.Name}},

You answer for the next step of the sunset of {{.Service.Title}}{{if .Task.Areas}} (your areas: {{range $i, $a := .Task.Areas}}{{if $i}}, {{end}}{{$a}}{{end}}){{end}}.{{if .Task.Lead}} It is due in {{.Task.Lead}}:{{end}}

  {{.Task.At}}: {{if eq .Task.Kind "milestone"}}milestone {{.Task.Name}}{{else if eq .Task.Kind "notice"}}notice {{.Task.Name}} goes out{{else if eq .Task.Kind "runbook"}}the shutdown runbook starts{{else if eq .Task.Kind "data"}}data deletion{{else if eq .Task.Kind "brownout"}}a brownout starts{{else}}feature {{.Task.Name}} changes phase{{end}} — {{.Task.Detail}}
{{if eq .Task.Kind "milestone"}}
Check that everyone who should move has moved, and that nothing still blocks this milestone.
{{- else if eq .Task.Kind "notice"}}
Check the notice before it goes out: sunset notify preview PLAN --notice {{.Task.Name}} --locale en (and --locale zh).
{{- else if eq .Task.Kind "runbook"}}
Be ready to run, watch and approve the shutdown runbook: sunset runbook status {{.Service.Name}}.
{{- else if eq .Task.Kind "data"}}
Make sure the backups and users' exports are done and kept: the data is deleted at this instant.
{{- else}}
Check the gateway and the consumers still calling the routes this step changes.
{{- end}}

To move the date, re-plan (sunset apply FILE, or sunset replan {{.Service.Name}} --shift 7d --reason "..."); to hold everything, sunset pause {{.Service.Name}} --reason "...".
Shutdown is planned for {{.Milestones.shutdown}}.

Status: {{.Links.Status}}
`,
		},
		ZH: &plan.Message{
			Subject: `任务提醒：{{.Service.Title}}下线的{{if eq .Task.Kind "milestone"}}里程碑 {{.Task.Name}}{{else if eq .Task.Kind "notice"}}通知 {{.Task.Name}}{{else if eq .Task.Kind "runbook"}}下线运行手册{{else if eq .Task.Kind "data"}}数据删除{{else if eq .Task.Kind "brownout"}}计划降级{{else}}功能 {{.Task.Name}} 阶段变更{{end}}将于 {{.Task.At}} 进行`,
			Body: `{{.Recipient.Name}}，您好：

您负责{{.Service.Title}}下线的下一步{{if .Task.Areas}}（您负责的领域：{{range $i, $a := .Task.Areas}}{{if $i}}、{{end}}{{$a}}{{end}}）{{end}}。{{if .Task.Lead}}它将在 {{.Task.Lead}} 后到来：{{end}}

  {{.Task.At}}：{{if eq .Task.Kind "milestone"}}里程碑 {{.Task.Name}}（{{if eq .Task.Name "announce"}}宣布下线{{else if eq .Task.Name "deprecate"}}每个响应带上 Deprecation 和 Sunset 头{{else if eq .Task.Name "read_only"}}服务拒绝写入{{else if eq .Task.Name "shutdown"}}服务返回 410 Gone{{else if eq .Task.Name "delete_data"}}数据保留期结束{{else}}{{.Task.Detail}}{{end}}）{{else}}{{if eq .Task.Kind "notice"}}发送通知 {{.Task.Name}}{{else if eq .Task.Kind "runbook"}}开始执行下线运行手册{{else if eq .Task.Kind "data"}}删除数据{{else if eq .Task.Kind "brownout"}}计划降级开始{{else}}功能 {{.Task.Name}} 进入新阶段{{end}}（{{.Task.Detail}}）{{end}}
{{if eq .Task.Kind "milestone"}}
请确认应迁移的用户都已迁移，没有任何事项阻碍这个里程碑。
{{- else if eq .Task.Kind "notice"}}
请在发送前检查通知内容：sunset notify preview PLAN --notice {{.Task.Name}} --locale zh（以及 --locale en）。
{{- else if eq .Task.Kind "runbook"}}
请准备好执行、观察并审批下线运行手册：sunset runbook status {{.Service.Name}}。
{{- else if eq .Task.Kind "data"}}
请确认备份和用户数据导出均已完成并妥善保存：数据将在此时删除。
{{- else}}
请检查网关，以及仍在调用这一步所影响路由的消费者。
{{- end}}

如需改期，请重新规划（sunset apply FILE，或 sunset replan {{.Service.Name}} --shift 7d --reason "..."）；如需全部暂停，请执行 sunset pause {{.Service.Name}} --reason "..."。
计划停止服务时间：{{.Milestones.shutdown}}。

状态：{{.Links.Status}}
`,
		},
	},
	"done": {
		EN: &plan.Message{
			Subject: "{{.Service.Title}} has been shut down",
			Body: `Hello {{.Recipient.Name}},

{{.Service.Title}} was shut down on {{.Milestones.shutdown}}. Thank you for using it.
{{- if .Alternative.Name}}
Its replacement is {{.Alternative.Name}}: {{.Alternative.URL}}{{end}}
{{- if .Milestones.delete_data}}
Your data is kept until {{.Milestones.delete_data}}.{{if .Recipient.ExportURL}} Download it: {{.Recipient.ExportURL}}{{end}}{{end}}

Four short questions help us retire the next service better: {{.Links.Survey}}
`,
		},
		ZH: &plan.Message{
			Subject: "{{.Service.Title}}已停止服务",
			Body: `{{.Recipient.Name}}，您好：

{{.Service.Title}}已于 {{.Milestones.shutdown}} 停止服务，感谢您一直以来的使用。
{{- if .Alternative.Name}}
替代服务为{{.Alternative.Name}}：{{.Alternative.URL}}{{end}}
{{- if .Milestones.delete_data}}
您的数据将保留至 {{.Milestones.delete_data}}。{{if .Recipient.ExportURL}}下载地址：{{.Recipient.ExportURL}}{{end}}{{end}}

回答四个简短的问题，帮助我们把下一次下线做得更好：{{.Links.Survey}}
`,
		},
	},
}
