package handlers

import (
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// apiKeyView shows a key without its secret.
type apiKeyView struct {
	*models.APIKey
	Permissions []string `json:"permissions"`
}

// createdKeyView is the one response that carries the secret.
type createdKeyView struct {
	apiKeyView
	Key string `json:"key"`
}

// apiKeyRequest accepts permissions as an array or a comma-separated string.
type apiKeyRequest struct {
	Name        string `json:"name"`
	Permissions any    `json:"permissions"`
}

func (r *apiKeyRequest) permissionList() ([]string, error) {
	switch v := r.Permissions.(type) {
	case string:
		return strings.Split(v, ","), nil
	case []any:
		out := make([]string, 0, len(v))
		for _, p := range v {
			s, ok := p.(string)
			if !ok {
				return nil, fiber.NewError(fiber.StatusBadRequest, "permissions: must be an array of strings")
			}
			out = append(out, s)
		}
		return out, nil
	case nil:
		return nil, nil
	default:
		return nil, fiber.NewError(fiber.StatusBadRequest, "permissions: must be an array of strings")
	}
}

func (a *API) listAPIKeys(c *fiber.Ctx) error {
	keys, err := a.store.APIKeys()
	if err != nil {
		return err
	}
	out := make([]apiKeyView, len(keys))
	for i := range keys {
		out[i] = apiKeyView{APIKey: &keys[i], Permissions: keys[i].PermissionList()}
	}
	return c.JSON(out)
}

func (a *API) createAPIKey(c *fiber.Ctx) error {
	var req apiKeyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	perms, err := req.permissionList()
	if err != nil {
		return err
	}
	k, secret, err := a.store.CreateAPIKey(req.Name, perms)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(createdKeyView{
		apiKeyView: apiKeyView{APIKey: k, Permissions: k.PermissionList()},
		Key:        secret,
	})
}

func (a *API) revokeAPIKey(c *fiber.Ctx) error {
	k, err := a.store.RevokeAPIKey(c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(apiKeyView{APIKey: k, Permissions: k.PermissionList()})
}
