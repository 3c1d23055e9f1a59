WORD = "from-layer"
