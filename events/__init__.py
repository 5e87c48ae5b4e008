"""Joint events: many bookings across resources and universities, booked and changed all or nothing."""
