module vigie/policies

go 1.26.0
