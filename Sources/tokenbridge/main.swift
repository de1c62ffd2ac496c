print("tokenbridge")
