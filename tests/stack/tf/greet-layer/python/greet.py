WORD = "tf-layer"
