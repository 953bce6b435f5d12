package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
)

// stallPlan is tripPlan without its guardrail; its announce milestone is made to fail.
var stallPlan = strings.Replace(tripPlan, "guardrails:\n  - {when: feedback.negative_ratio > 0.4 over 24h, then: pause}\n", "", 1)

// TestStalledActionTellsEveryOwnerOnceInTheirLanguage: when the announce milestone's step keeps
// failing, the engine pauses the sunset and each owner gets one email naming the action, its
// error and what to do, in their language, that cannot be unsubscribed from.
func TestStalledActionTellsEveryOwnerOnceInTheirLanguage(t *testing.T) {
	t.Parallel()
	at := time.Date(2027, 1, 5, 3, 0, 0, 0, time.UTC)
	b := setupOwners(t, at, 2)
	b.eng.Register(plan.KindMilestone, engine.HandlerFunc(func(ctx context.Context, run *engine.Run) error {
		return errors.New("status page host unreachable")
	}))
	b.applyAndPause(t, stallPlan, at, time.Minute /* past the retry */, "the failing action")
	b.send(t)
	checkOwnerMails(t, b.sink, map[string][]string{
		"li.wei@example.com": {"动作失败：订单 API v1的下线已暂停", "Li Wei，您好", "动作 milestone/announce", "连续失败 2 次",
			"最近一次错误：status page host unreachable", "sunset skip orders-api-v1 --action milestone/announce"},
		"support@example.com": {"Action failing: the sunset of Orders API v1 is paused", "Hello support,", "its action milestone/announce",
			"failed 2 times in a row", "Last error: status page host unreachable", "sunset resume orders-api-v1"},
	})
}
