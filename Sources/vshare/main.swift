print("vshare")
