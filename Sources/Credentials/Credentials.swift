// The Credentials module.
