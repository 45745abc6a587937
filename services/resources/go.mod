module vigie/services/resources

go 1.26.0
