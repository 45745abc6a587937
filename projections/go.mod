module vigie/projections

go 1.26.0
