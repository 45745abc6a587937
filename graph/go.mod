module vigie/graph

go 1.26.0
