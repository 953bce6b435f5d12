// Package public serves what anybody on the internet may read or post about an announced
// sunset: the status page, its Atom feed, the announcements and the banner script other sites
// embed, the feedback form, the survey, the per-user export download pages and the unsubscribe
// page. Nothing about a sunset is public before its announcement (DarkUntilAnnounced).
//
// public declares the small interfaces it consumes (Engine, Notices, Exports, FeedbackStore).
// It imports auth for the route type and roles only, intake and httpx, and never the operator
// UI, the API or a storage driver.
package public
