"""Search on a Whoosh index: the only package that imports Whoosh."""
