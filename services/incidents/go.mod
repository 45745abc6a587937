module vigie/services/incidents

go 1.26.0
