print("d3pm")
