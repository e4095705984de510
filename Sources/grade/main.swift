print("grade")
