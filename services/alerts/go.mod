module vigie/services/alerts

go 1.26.0
