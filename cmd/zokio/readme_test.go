package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestReadmeSnippetsCompile builds every ```go block of the README as the complete
// program it claims to be, inside the module (in a directory whose leading underscore
// keeps it out of ./...), so a snippet that names an undefined variable or a renamed
// API fails here.
func TestReadmeSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs with the go command; skipped under -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(readme)
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```go block: the parser or the README changed")
	}
	dir, err := os.MkdirTemp(root, "_readme-check-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var pkgs []string
	for i, b := range blocks {
		if !strings.HasPrefix(strings.TrimSpace(b), "package main") {
			t.Errorf("README Go block %d is not a complete program (no package clause):\n%s", i+1, b)
			continue
		}
		sub := filepath.Join(dir, "s"+strconv.Itoa(i+1))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "main.go"), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, "./"+filepath.Join(filepath.Base(dir), filepath.Base(sub)))
	}
	cmd := exec.Command(goTool, append([]string{"vet"}, pkgs...)...)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("README snippets do not build (go vet %s): %v\n%s", strings.Join(pkgs, " "), err, out.String())
	}
}

// goBlocks returns the bodies of the ```go fenced blocks in md.
func goBlocks(md []byte) []string {
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.Split(string(md), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = new(strings.Builder)
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line)
			cur.WriteByte('\n')
		}
	}
	return blocks
}
