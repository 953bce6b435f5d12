package plan

import "strings"

// TodoMarker is what `sunset plan new` writes where a person must decide: the service's name,
// title and description. A plan that still holds it in those fields does not validate.
const TodoMarker = "TODO"

// todos reports the TODO markers left in the service's title and description (a TODO name is
// already refused by the naming rule).
func (v *validator) todos() {
	s := v.p.Service
	for path, text := range map[string]string{
		"service.title.en": s.Title.EN, "service.title.zh": s.Title.ZH,
		"service.description.en": s.Description.EN, "service.description.zh": s.Description.ZH,
	} {
		if strings.Contains(text, TodoMarker) {
			v.errorf(path, "replace the %s marker left by sunset plan new with the real text", TodoMarker)
		}
	}
}
