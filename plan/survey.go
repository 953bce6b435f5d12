package plan

import "fmt"

// surveyKinds are the kinds of survey question.
var surveyKinds = []string{"rating", "yesno", "text"}

// survey checks the survey section: every question has an id (unique), a known kind and a
// text in at least one language.
func (v *validator) survey() {
	if v.p.Survey == nil {
		return
	}
	if v.required("survey.questions", len(v.p.Survey.Questions) > 0, "list at least one question, or leave the survey out for the default questions") {
		seen := map[string]bool{}
		for i, q := range v.p.Survey.Questions {
			path := fmt.Sprintf("survey.questions[%d]", i)
			if v.required(path+".id", q.ID != "", "name the answer, e.g. id: satisfaction") {
				if !validName(q.ID) {
					v.errorf(path+".id", "%q is not a name: use letters, digits and underscores", q.ID)
				} else if seen[q.ID] {
					v.errorf(path+".id", "question %q appears twice", q.ID)
				}
				seen[q.ID] = true
			}
			if v.required(path+".kind", q.Kind != "", "use rating, yesno or text") {
				v.oneOf(path+".kind", q.Kind, surveyKinds, "kind")
			}
			v.required(path+".text", q.Text.EN != "" || q.Text.ZH != "", "write the question, e.g. text: {en: ..., zh: ...}")
		}
	}
}
