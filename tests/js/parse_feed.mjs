// Reads an iCalendar file with Mozilla's ical.js (the parser behind Thunderbird and many web
// clients) and prints each event as JSON, with its instants as ical.js computes them.
import fs from "node:fs";
import ICAL from "ical.js";

const text = fs.readFileSync(process.argv[2], "utf8");
const calendar = new ICAL.Component(ICAL.parse(text));
for (const zone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(zone);
}
const events = calendar.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  return {
    uid: event.uid,
    summary: event.summary,
    location: event.location,
    status: component.getFirstPropertyValue("status"),
    sequence: event.sequence,
    tzid: component.getFirstProperty("dtstart").getParameter("tzid"),
    zone: event.startDate.zone ? event.startDate.zone.tzid : null,
    local_start: event.startDate.toString(),
    start: event.startDate.toJSDate().toISOString(),
    end: event.endDate.toJSDate().toISOString(),
  };
});
process.stdout.write(JSON.stringify(events));
