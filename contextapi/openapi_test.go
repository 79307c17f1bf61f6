package contextapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// openAPI is the part of openapi.yaml the tests read.
type openAPI struct {
	OpenAPI string `yaml:"openapi"`
	Servers []struct {
		URL string `yaml:"url"`
	} `yaml:"servers"`
	Paths      map[string]map[string]yaml.Node `yaml:"paths"`
	Components struct {
		Schemas map[string]schema `yaml:"schemas"`
	} `yaml:"components"`
}

type schema struct {
	Ref                  string            `yaml:"$ref"`
	Properties           map[string]schema `yaml:"properties"`
	AdditionalProperties *bool             `yaml:"additionalProperties"`
	OneOf                []schema          `yaml:"oneOf"`
	Enum                 []string          `yaml:"enum"`
}

type operation struct {
	Parameters []struct {
		Name     string `yaml:"name"`
		In       string `yaml:"in"`
		Required bool   `yaml:"required"`
	} `yaml:"parameters"`
	RequestBody struct {
		Content map[string]struct {
			Schema schema `yaml:"schema"`
		} `yaml:"content"`
	} `yaml:"requestBody"`
	Responses map[string]struct {
		Content map[string]struct {
			Schema schema `yaml:"schema"`
		} `yaml:"content"`
	} `yaml:"responses"`
}

func loadOpenAPI(t *testing.T) openAPI {
	t.Helper()
	data, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi: %q, want 3.1.0", doc.OpenAPI)
	}
	return doc
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPIMatchesRoutes: every route is described, and nothing else is.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	if len(doc.Servers) != 1 || doc.Servers[0].URL+"/" != PathPrefix {
		t.Errorf("servers %+v, want one with url %s", doc.Servers, strings.TrimSuffix(PathPrefix, "/"))
	}
	inCode := map[string]route{}
	for _, rt := range routes {
		inCode[rt.method+" /"+rt.path] = rt
	}
	inSpec := map[string]operation{}
	for path, item := range doc.Paths {
		for key, node := range item {
			if !slices.Contains(httpMethods, key) {
				continue
			}
			var op operation
			if err := node.Decode(&op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			inSpec[strings.ToUpper(key)+" "+path] = op
		}
	}
	for name := range inCode {
		if _, ok := inSpec[name]; !ok {
			t.Errorf("%s is served but not in openapi.yaml", name)
		}
	}
	for name, op := range inSpec {
		rt, ok := inCode[name]
		if !ok {
			t.Errorf("%s is in openapi.yaml but not served", name)
			continue
		}
		for _, segment := range strings.Split(rt.path, "/") {
			param, ok := strings.CutPrefix(segment, "{")
			if !ok {
				continue
			}
			param = strings.TrimSuffix(param, "}")
			if !slices.ContainsFunc(op.Parameters, func(p struct {
				Name     string `yaml:"name"`
				In       string `yaml:"in"`
				Required bool   `yaml:"required"`
			}) bool {
				return p.Name == param && p.In == "path" && p.Required
			}) {
				t.Errorf("%s: openapi.yaml lacks the required path parameter %s", name, param)
			}
		}
		if len(op.RequestBody.Content) != 1 || op.RequestBody.Content["application/json"].Schema.Ref == "" && op.RequestBody.Content["application/json"].Schema.OneOf == nil {
			t.Errorf("%s: the request body must be application/json only", name)
		}
		for status, resp := range op.Responses {
			if _, ok := resp.Content["application/json"]; len(resp.Content) > 0 && !ok {
				t.Errorf("%s %s: answers are application/json", name, status)
			}
		}
	}
}

// requestSchemas ties each operation's request body to the Go types it is decoded
// into (a oneOf lists several).
var requestSchemas = map[string][]string{
	"PUT /customers/{account_id}": {"Customer"},
	"POST /pageviews":             {"PageView", "PageViewBatch"},
	"POST /linkcodes":             {"LinkCodeRequest"},
	"POST /visitorcodes":          {"VisitorCodeRequest"},
}

var schemaTypes = map[string]reflect.Type{
	"Customer": reflect.TypeFor[customerRequest](),
	"PageView": reflect.TypeFor[pageViewRequest](),
	"PageViewBatch": reflect.TypeFor[struct {
		Views []pageViewRequest `json:"views"`
	}](),
	"LinkCodeRequest":    reflect.TypeFor[linkCodeRequest](),
	"VisitorCodeRequest": reflect.TypeFor[visitorCodeRequest](),
	"CodeResponse":       reflect.TypeFor[codeResponse](),
	"Error":              reflect.TypeFor[errorBody](),
}

// TestOpenAPISchemasMatchTypes: each schema has exactly the JSON fields of its Go
// type, refuses others as the decoder does, and each operation uses the right ones.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	for name, typ := range schemaTypes {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s missing", name)
			continue
		}
		var inSpec []string
		for prop := range s.Properties {
			inSpec = append(inSpec, prop)
		}
		slices.Sort(inSpec)
		if inCode := jsonFields(typ); !slices.Equal(inSpec, inCode) {
			t.Errorf("schema %s has properties %v, the Go type %v", name, inSpec, inCode)
		}
		if s.AdditionalProperties == nil || *s.AdditionalProperties {
			t.Errorf("schema %s must say additionalProperties: false", name)
		}
	}
	for path, item := range doc.Paths {
		for method, node := range item {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			var op operation
			if err := node.Decode(&op); err != nil {
				t.Fatal(err)
			}
			name := strings.ToUpper(method) + " " + path
			body := op.RequestBody.Content["application/json"].Schema
			var refs []string
			for _, s := range append([]schema{body}, body.OneOf...) {
				if s.Ref != "" {
					refs = append(refs, strings.TrimPrefix(s.Ref, "#/components/schemas/"))
				}
			}
			if want := requestSchemas[name]; !slices.Equal(refs, want) {
				t.Errorf("%s: request body schemas %v, want %v", name, refs, want)
			}
		}
	}
}

func jsonFields(typ reflect.Type) []string {
	var names []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous {
			names = append(names, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.IsExported() && name != "-" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// TestOpenAPIErrcodes: the Error schema's enum lists exactly the errcodes in
// errors.go, read from the source so that a new one cannot be forgotten.
func TestOpenAPIErrcodes(t *testing.T) {
	doc := loadOpenAPI(t)
	inSpec := slices.Sorted(slices.Values(doc.Components.Schemas["Error"].Properties["errcode"].Enum))
	file, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var inCode []string
	ast.Inspect(file, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil && strings.HasPrefix(s, "CC_") {
				inCode = append(inCode, s)
			}
		}
		return true
	})
	slices.Sort(inCode)
	if len(inCode) < 8 || !slices.Equal(inSpec, inCode) {
		t.Errorf("openapi.yaml errcodes %v, errors.go %v", inSpec, inCode)
	}
}
