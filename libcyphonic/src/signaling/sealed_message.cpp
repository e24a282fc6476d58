// filled in by its module's commit
