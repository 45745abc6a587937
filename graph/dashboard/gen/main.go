// Command gen writes the dashboard's communes outlines: the source GeoJSON with its
// coordinates rounded to 4 decimals (about 10 m, finer than a wall screen's pixel for
// a département), repeated points dropped, and only the properties the map uses (code
// and nom). Run by scripts/generate-dashboard.
//
//	go run ./graph/dashboard/gen -in ../shared/data/geo/communes-30-gard.geojson -out graph/dashboard/static/assets/communes.geojson
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
)

type feature struct {
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
	Geometry   geometry       `json:"geometry"`
}

type geometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

func main() {
	in := flag.String("in", "", "source GeoJSON FeatureCollection")
	out := flag.String("out", "", "where to write the simplified GeoJSON")
	flag.Parse()
	if *in == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: gen -in SOURCE.geojson -out TARGET.geojson")
		os.Exit(2)
	}
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var src struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}
	if err := json.Unmarshal(raw, &src); err != nil {
		return err
	}
	if src.Type != "FeatureCollection" {
		return fmt.Errorf("%s: not a FeatureCollection", in)
	}
	// Sorted by commune code, so the output does not depend on the source's order.
	sort.Slice(src.Features, func(i, j int) bool {
		return fmt.Sprint(src.Features[i].Properties["code"]) < fmt.Sprint(src.Features[j].Properties["code"])
	})
	var b bytes.Buffer
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i, f := range src.Features {
		code, _ := f.Properties["code"].(string)
		nom, _ := f.Properties["nom"].(string)
		if code == "" || nom == "" {
			return fmt.Errorf("feature %d has no code or nom", i)
		}
		if i > 0 {
			b.WriteString(",\n")
		}
		props, _ := json.Marshal(map[string]string{"code": code, "nom": nom})
		fmt.Fprintf(&b, `{"type":"Feature","properties":%s,"geometry":{"type":%q,"coordinates":`, props, f.Geometry.Type)
		switch f.Geometry.Type {
		case "Polygon":
			var rings [][][]float64
			if err := json.Unmarshal(f.Geometry.Coordinates, &rings); err != nil {
				return fmt.Errorf("%s: %w", code, err)
			}
			writePolygon(&b, rings)
		case "MultiPolygon":
			var polys [][][][]float64
			if err := json.Unmarshal(f.Geometry.Coordinates, &polys); err != nil {
				return fmt.Errorf("%s: %w", code, err)
			}
			b.WriteByte('[')
			for k, p := range polys {
				if k > 0 {
					b.WriteByte(',')
				}
				writePolygon(&b, p)
			}
			b.WriteByte(']')
		default:
			return fmt.Errorf("%s: geometry %s not handled", code, f.Geometry.Type)
		}
		b.WriteString("}}")
	}
	b.WriteString("]}\n")
	if !json.Valid(b.Bytes()) {
		return fmt.Errorf("wrote invalid JSON")
	}
	return os.WriteFile(out, b.Bytes(), 0o644)
}

// writePolygon writes rings rounded to 4 decimals, without points equal to the one
// before once rounded; a ring keeps at least 4 positions (closed) as GeoJSON requires.
func writePolygon(b *bytes.Buffer, rings [][][]float64) {
	b.WriteByte('[')
	for r, ring := range rings {
		if r > 0 {
			b.WriteByte(',')
		}
		var kept [][2]float64
		for _, p := range ring {
			q := [2]float64{round4(p[0]), round4(p[1])}
			if len(kept) > 0 && kept[len(kept)-1] == q {
				continue
			}
			kept = append(kept, q)
		}
		if len(kept) < 4 { // degenerate once rounded: keep the source's points
			kept = kept[:0]
			for _, p := range ring {
				kept = append(kept, [2]float64{round4(p[0]), round4(p[1])})
			}
		}
		b.WriteByte('[')
		for k, q := range kept {
			if k > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(b, "[%s,%s]", num(q[0]), num(q[1]))
		}
		b.WriteByte(']')
	}
	b.WriteByte(']')
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
