"""我的集市 at central: search across every township, contact a seller through their edge."""
