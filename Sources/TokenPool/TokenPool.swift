// The TokenPool module.
