"""One answer to "is this time free?": busy time read once, the booking rules as pure functions over it."""
