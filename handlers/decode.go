package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// MaxAPIBody caps request bodies under /api/v1 (SPEC §3.2).
const MaxAPIBody = 64 << 10

// limitBody answers 413 for API bodies over MaxAPIBody. The server-wide
// limit is higher because pings accept (and cut) larger bodies.
func limitBody(c *fiber.Ctx) error {
	if len(c.Body()) > MaxAPIBody || c.Request().Header.ContentLength() > MaxAPIBody {
		return fiber.ErrRequestEntityTooLarge
	}
	return c.Next()
}

// decodeJSON reads the request body into dst. The body must be JSON (a
// missing Content-Type is taken as JSON, anything else is 415), a single
// object, and of the right types; errors name the field.
func decodeJSON(c *fiber.Ctx, dst any) error {
	if ct := c.Get(fiber.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != fiber.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json")) {
			return fiber.NewError(fiber.StatusUnsupportedMediaType, "Content-Type must be application/json")
		}
	}
	body := bytes.TrimSpace(c.Body())
	if len(body) == 0 {
		return fiber.NewError(fiber.StatusBadRequest, "request body is empty: send a JSON object")
	}
	if body[0] != '{' {
		return fiber.NewError(fiber.StatusBadRequest, "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, jsonErrorText(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fiber.NewError(fiber.StatusBadRequest, "request body must hold a single JSON object")
	}
	return nil
}

// jsonErrorText explains a decoding error in terms of the request.
func jsonErrorText(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return "request body must be a JSON object"
		}
		return fmt.Sprintf("%s: must be %s, not %s", typeErr.Field, describeType(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("malformed JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "malformed JSON: unexpected end of input"
	default:
		return "malformed JSON: " + err.Error()
	}
}

func describeType(kind string) string {
	switch kind {
	case "int", "int64", "int32":
		return "a whole number"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "map":
		return "an object"
	case "slice":
		return "an array"
	case "ptr":
		return "a value of another type"
	default:
		return "a " + kind
	}
}
