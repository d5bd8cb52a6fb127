package main

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// table is one markdown table an experiment printed, with the heading above it.
type table struct {
	heading string
	header  []string
	rows    [][]string
}

// parseTables reads the markdown tables out of an experiment's output.
func parseTables(text string) []table {
	var out []table
	heading := ""
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if strings.HasPrefix(line, "#") {
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
			continue
		}
		if !strings.HasPrefix(line, "|") || i+1 >= len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[i+1]), "|---") {
			continue
		}
		t := table{heading: heading, header: cells(line)}
		for i += 2; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
			t.rows = append(t.rows, cells(lines[i]))
		}
		out = append(out, t)
	}
	return out
}

func cells(line string) []string {
	line = strings.Trim(strings.TrimSpace(line), "|")
	c := strings.Split(line, "|")
	for i := range c {
		c[i] = strings.TrimSpace(c[i])
	}
	return c
}

// spread parses a cell "M (lo–hi)" or "M"; ok is false for anything else.
func spread(cell string) (m, lo, hi float64, ok bool) {
	cell = strings.ReplaceAll(strings.TrimSpace(cell), "**", "")
	head, rest, hasRange := strings.Cut(cell, " (")
	m, err := strconv.ParseFloat(strings.TrimSpace(head), 64)
	if err != nil {
		return 0, 0, 0, false
	}
	lo, hi = m, m
	if hasRange {
		a, b, found := strings.Cut(strings.TrimSuffix(rest, ")"), "–")
		if found {
			if x, err := strconv.ParseFloat(a, 64); err == nil {
				lo = x
			}
			if x, err := strconv.ParseFloat(b, 64); err == nil {
				hi = x
			}
		}
	}
	return m, lo, hi, true
}

// chart is a horizontal bar chart of one column of an experiment's tables: a bar
// per row (labelled by the label columns, and by the table's heading if heading is
// set), the median as the bar and the min–max as whiskers.
type chart struct {
	file, title string
	value       string   // the column charted
	labels      []string // the columns that name a row
	heading     bool     // prefix labels with the table's heading
}

type bar struct {
	label     string
	m, lo, hi float64
}

func (c chart) bars(tables []table) []bar {
	var out []bar
	for _, t := range tables {
		vi := index(t.header, c.value)
		if vi < 0 {
			continue
		}
		var li []int
		for _, l := range c.labels {
			if i := index(t.header, l); i >= 0 {
				li = append(li, i)
			}
		}
		if len(li) == 0 {
			continue
		}
		for _, r := range t.rows {
			if vi >= len(r) {
				continue
			}
			m, lo, hi, ok := spread(r[vi])
			if !ok {
				continue
			}
			var parts []string
			if c.heading && t.heading != "" {
				parts = append(parts, t.heading)
			}
			for _, i := range li {
				if i < len(r) {
					parts = append(parts, r[i])
				}
			}
			out = append(out, bar{label: strings.Join(parts, " · "), m: m, lo: lo, hi: hi})
		}
	}
	return out
}

func index(header []string, name string) int {
	for i, h := range header {
		if h == name {
			return i
		}
	}
	return -1
}

// draw writes the chart as a PNG.
func (c chart) draw(tables []table, path string) error {
	bs := c.bars(tables)
	if len(bs) == 0 {
		return fmt.Errorf("no rows with a %q column", c.value)
	}
	// Top to bottom in the order printed: the y axis counts upwards.
	vals := make(plotter.Values, len(bs))
	errs := make(plotter.XErrors, len(bs))
	pts := make(plotter.XYs, len(bs))
	labels := make([]string, len(bs))
	top := 0.0
	for i, b := range bs {
		top = max(top, b.hi, b.m)
		j := len(bs) - 1 - i
		vals[j] = b.m
		errs[j] = struct{ Low, High float64 }{b.m - b.lo, b.hi - b.m}
		pts[j] = plotter.XY{X: b.m, Y: float64(j)}
		labels[j] = b.label
	}
	p := plot.New()
	p.Title.Text = c.title
	p.X.Label.Text = c.value
	p.X.Min, p.X.Max = 0, top*1.05
	bc, err := plotter.NewBarChart(vals, vg.Points(9))
	if err != nil {
		return err
	}
	bc.Horizontal = true
	bc.Color = color.RGBA{R: 70, G: 110, B: 170, A: 255}
	bc.LineStyle.Width = 0
	p.Add(bc)
	eb, err := plotter.NewXErrorBars(struct {
		plotter.XYer
		plotter.XErrorer
	}{pts, errs})
	if err != nil {
		return err
	}
	eb.LineStyle.Width = vg.Points(1)
	p.Add(eb)
	p.NominalY(labels...)
	p.Add(plotter.NewGrid())
	h := vg.Length(len(bs))*vg.Points(16) + vg.Points(80)
	return p.Save(7*vg.Inch, h, path)
}
