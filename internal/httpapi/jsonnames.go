package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
)

// errMisnamed is the cause of refusing a key that matches a field only in
// another case.
var errMisnamed = errors.New("attribute names are case-sensitive")

// misnamedKey returns the first object key of body, a value that decoded
// into a value of type t, that names a field only in another case.
// encoding/json matches keys to fields case-insensitively, so
// {"USERNAME":"x"} or {"Roles":[…]} would fill username or roles, where
// Atlas, whose JSON binding is case-sensitive, refuses the attribute as
// unknown: a body must mean the same here as there, and a check in front of
// the server that reads "roles" must see what the server reads.
func misnamedKey(body []byte, t reflect.Type) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	key, err := walkNames(dec, t)
	return key, err == nil && key != ""
}

// walkNames reads one JSON value from dec, which should be of type t (nil
// when any key is acceptable), and returns the first misnamed key in it.
func walkNames(dec *json.Decoder, t reflect.Type) (string, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return "", nil
	}
	switch d {
	case '{':
		var fields map[string]reflect.Type
		var elem reflect.Type
		switch {
		case t == nil:
		case t.Kind() == reflect.Struct:
			fields = jsonFields(t)
		case t.Kind() == reflect.Map:
			elem = t.Elem()
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return "", err
			}
			key, _ := tok.(string)
			child := elem
			if fields != nil {
				ft, ok := fields[key]
				if !ok {
					return key, nil
				}
				child = ft
			}
			if k, err := walkNames(dec, child); k != "" || err != nil {
				return k, err
			}
		}
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for dec.More() {
			if k, err := walkNames(dec, elem); k != "" || err != nil {
				return k, err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return "", err
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the exact JSON names of a struct's fields (those of
// embedded structs included) to their types; a field whose type decodes
// itself maps to nil.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			et := ft
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for k, v := range jsonFields(et) {
					if _, ok := m[k]; !ok {
						m[k] = v
					}
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		if ft.Implements(unmarshalerType) || reflect.PointerTo(ft).Implements(unmarshalerType) {
			ft = nil
		}
		m[name] = ft
	}
	fieldCache.Store(t, m)
	return m
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
