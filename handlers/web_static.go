package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path"

	"github.com/cronpulse/cronpulse/views"
	"github.com/gofiber/fiber/v2"
)

// asset is one static file, read once at start.
type asset struct {
	body        []byte
	version     string // the start of its SHA-256: the ?v= of its URL
	contentType string
}

// assets are views/static/*, by file name.
type assets map[string]asset

// staticTypes are the kinds of file views/static may hold.
var staticTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
	".ico": "image/x-icon",
}

func loadAssets() assets {
	out := assets{}
	names, err := fs.Glob(views.Files, "static/*")
	if err != nil {
		panic("views: " + err.Error())
	}
	for _, name := range names {
		b, err := views.Files.ReadFile(name)
		if err != nil {
			panic("views: " + err.Error()) // embedded: present by construction
		}
		ct, ok := staticTypes[path.Ext(name)]
		if !ok {
			panic("views: no content type for " + name)
		}
		sum := sha256.Sum256(b)
		out[path.Base(name)] = asset{body: b, version: hex.EncodeToString(sum[:6]), contentType: ct}
	}
	return out
}

// url is the address of asset name with its version, for templates
// ({{asset "app.css"}}). An unknown name is a template defect: it shows
// as a broken link, never as a panic.
func (a assets) url(name string) string {
	if f, ok := a[name]; ok {
		return "/static/" + name + "?v=" + f.version
	}
	return "/static/" + name
}

// static serves GET /static/:name. The versioned URL never changes its
// content, so it is cached for a year; an unversioned or outdated one is
// revalidated each time.
func (w *Web) static(c *fiber.Ctx) error {
	f, ok := w.assets[c.Params("name")]
	if !ok {
		return fiber.ErrNotFound
	}
	if c.Query("v") == f.version {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	return c.Send(f.body)
}
