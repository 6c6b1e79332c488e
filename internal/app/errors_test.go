package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestErrorsOnlyInCatalog checks that no Go file of the module but this
// package's errors.go builds an Atlas error with a code: no call of
// atlasx509.Errorf, no atlasx509.Error literal with a Code, no literal
// ErrorCode in an answer. A new code goes into the catalog.
func TestErrorsOnlyInCatalog(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	catalogFile := filepath.Join("internal", "app", "errors.go")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || rel == catalogFile || rel == "errors.go" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if what := errorConstruction(n); what != "" {
				t.Errorf("%s: %s outside %s: add a constructor to the catalog", fset.Position(n.Pos()), what, catalogFile)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// errorConstruction names what n does if it builds an Atlas error with a
// code, or returns "".
func errorConstruction(n ast.Node) string {
	switch n := n.(type) {
	case *ast.CallExpr:
		if isSelector(n.Fun, "atlasx509", "Errorf") {
			return "atlasx509.Errorf"
		}
	case *ast.CompositeLit:
		for _, elt := range n.Elts {
			kv, ok := elt.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			key, ok := kv.Key.(*ast.Ident)
			if !ok {
				continue
			}
			if key.Name == "Code" && isSelector(n.Type, "atlasx509", "Error") {
				return "an atlasx509.Error with a Code"
			}
			if lit, ok := kv.Value.(*ast.BasicLit); ok && key.Name == "ErrorCode" && lit.Kind == token.STRING {
				code, _ := strconv.Unquote(lit.Value)
				return "the literal ErrorCode " + code
			}
		}
	}
	return ""
}

func isSelector(e ast.Expr, pkg, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg && sel.Sel.Name == name
}
