print("legacy-topdesk")
