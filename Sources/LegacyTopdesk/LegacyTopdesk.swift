// The LegacyTopdesk module.
