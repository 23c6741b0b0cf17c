package handlers

import (
	"reflect"
	"strings"
	"time"
)

// schemaOf describes the JSON that encoding/json makes of a value of type
// t, as a JSON Schema (2020-12, the dialect of OpenAPI 3.1). It follows the
// encoder's rules rather than a library's guesses: a pointer, slice or map
// may be null (a nil one encodes so), embedded structs are flattened, a
// field with omitempty may be missing and every other one is always there.
// For a request body (request true) no field is required: the API reads
// what is sent and names what is missing.
func schemaOf(t reflect.Type, request bool) map[string]any {
	switch {
	case t == reflect.TypeOf(time.Time{}):
		return map[string]any{"type": "string", "format": "date-time"}
	case isNullableField(t):
		return nullable(schemaOf(t.Field(1).Type.Elem(), request))
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(schemaOf(t.Elem(), request))
	case reflect.Interface:
		return map[string]any{}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string"}
		}
		s := map[string]any{"type": "array", "items": schemaOf(t.Elem(), request)}
		if t.Kind() == reflect.Slice {
			return nullable(s)
		}
		return s
	case reflect.Map:
		return nullable(map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), request)})
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		addFields(t, props, &required, request)
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return map[string]any{}
}

// addFields adds the JSON fields of struct type t (and of the structs it
// embeds) to props.
func addFields(t reflect.Type, props map[string]any, required *[]string, request bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(ft, props, required, request)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = schemaOf(ft, request)
		if !request && !strings.Contains(opts, "omitempty") {
			*required = append(*required, name)
		}
	}
}

// isNullableField reports whether t is a models.Nullable[T]: a field that
// is absent, null or a T.
func isNullableField(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && strings.HasPrefix(t.Name(), "Nullable[") && t.NumField() == 2 &&
		t.Field(0).Name == "Set" && t.Field(1).Name == "Value" && t.Field(1).Type.Kind() == reflect.Pointer
}

// nullable lets s also be null.
func nullable(s map[string]any) map[string]any {
	typ, ok := s["type"].(string)
	if !ok {
		return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	}
	out := make(map[string]any, len(s))
	for k, v := range s {
		out[k] = v
	}
	out["type"] = []any{typ, "null"}
	return out
}
