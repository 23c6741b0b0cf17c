package handlers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hookServer records webhook deliveries and answers status.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	status int
}

func newHookServer(t *testing.T, status int) *hookServer {
	h := &hookServer{status: status}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m) // a non-JSON body shows up as a nil map, which the test notices
		h.mu.Lock()
		h.bodies = append(h.bodies, m)
		h.mu.Unlock()
		w.WriteHeader(h.status)
	}))
	t.Cleanup(h.Close)
	return h
}

type channelOut struct {
	ID          string         `json:"id"`
	ProjectID   string         `json:"projectId"`
	Name        string         `json:"name"`
	Kind        string         `json:"kind"`
	Config      map[string]any `json:"config"`
	Enabled     bool           `json:"enabled"`
	RemindEvery int            `json:"remindEvery"`
	LastError   string         `json:"lastError"`
}

func TestChannelsCRUDMasksSecrets(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		pid := e.project("Acme")
		r := e.do("POST", "/api/v1/channels", e.admin, `{"projectId":`+quote(pid)+`,"name":"ops","kind":"slack_webhook",
			"config":{"url":"https://hooks.slack.com/services/T00/B00/SECRETSECRET"},"remindEvery":60}`)
		require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
		var ch channelOut
		r.JSON(t, &ch)
		assert.Equal(t, "https://hooks.slack.com/services/T00/****", ch.Config["url"])
		assert.True(t, ch.Enabled, "enabled by default")
		assert.Equal(t, 60, ch.RemindEvery)
		assert.NotContains(t, string(r.Body), "SECRETSECRET")

		r = e.do("POST", "/api/v1/channels", e.admin, `{"projectId":`+quote(pid)+`,"name":"bot","kind":"slack_bot",
			"config":{"token":"xoxb-111-222-tokentoken","channel":"#ops"},"enabled":false}`)
		require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
		var bot channelOut
		r.JSON(t, &bot)
		assert.Equal(t, "xoxb-****", bot.Config["token"])
		assert.Equal(t, "#ops", bot.Config["channel"])
		assert.False(t, bot.Enabled)

		r = e.do("GET", "/api/v1/channels?projectId="+pid, e.admin, "")
		require.Equal(t, http.StatusOK, r.Code)
		var list []channelOut
		r.JSON(t, &list)
		require.Len(t, list, 2)
		assert.NotContains(t, string(r.Body), "tokentoken")
		assert.NotContains(t, string(r.Body), "SECRETSECRET")

		r = e.do("GET", "/api/v1/channels/"+bot.ID, e.admin, "")
		require.Equal(t, http.StatusOK, r.Code)
		assert.NotContains(t, string(r.Body), "tokentoken")

		// PUT with the config as read back keeps the token; the name changes.
		r = e.do("PUT", "/api/v1/channels/"+bot.ID, e.admin, `{"name":"bot 2","config":{"token":"xoxb-****","channel":"#alerts"}}`)
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		stored, err := e.store.Channel(bot.ID)
		require.NoError(t, err)
		assert.Equal(t, "xoxb-111-222-tokentoken", stored.ConfigString("token"))
		assert.Equal(t, "#alerts", stored.ConfigString("channel"))
		assert.Equal(t, "bot 2", stored.Name)

		r = e.do("DELETE", "/api/v1/channels/"+bot.ID, e.admin, "")
		assert.Equal(t, http.StatusNoContent, r.Code)
		r = e.do("GET", "/api/v1/channels/"+bot.ID, e.admin, "")
		assert.Equal(t, http.StatusNotFound, r.Code)
		assert.Contains(t, r.Error(t), "not found")
	})
}

func TestChannelsBadInput(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		pid := e.project("Acme")
		cases := []struct{ name, body, wantInError string }{
			{"no kind", `{"projectId":` + quote(pid) + `,"name":"x","config":{}}`, "kind"},
			{"bad kind", `{"projectId":` + quote(pid) + `,"name":"x","kind":"sms","config":{}}`, "kind"},
			{"unknown project", `{"projectId":"nope","name":"x","kind":"webhook","config":{"url":"https://e.com/h"}}`, "projectId"},
			{"bad url", `{"projectId":` + quote(pid) + `,"name":"x","kind":"webhook","config":{"url":"not a url"}}`, "config.url"},
			{"config not object", `{"projectId":` + quote(pid) + `,"name":"x","kind":"webhook","config":"https://e.com"}`, "config"},
			{"bad address", `{"projectId":` + quote(pid) + `,"name":"x","kind":"email","config":{"to":["nobody"]}}`, "config.to[0]"},
			{"negative reminder", `{"projectId":` + quote(pid) + `,"name":"x","kind":"email","config":{"to":["a@b.co"]},"remindEvery":-1}`, "remindEvery"},
			{"extra config key", `{"projectId":` + quote(pid) + `,"name":"x","kind":"slack_webhook","config":{"url":"https://h.s/x","secret":"1"}}`, "config.secret"},
		}
		before := e.count("channels")
		for _, tc := range cases {
			e.run(t, tc.name, func(t *testing.T) {
				r := e.do("POST", "/api/v1/channels", e.admin, tc.body)
				assert.Equal(t, http.StatusBadRequest, r.Code, "%s: %s", tc.name, r.Body)
				assert.Contains(t, r.Error(t), tc.wantInError, tc.name)
			})
		}
		assert.Equal(t, before, e.count("channels"), "nothing written")
		r := e.do("PUT", "/api/v1/channels/nope", e.admin, `{"name":"x"}`)
		assert.Equal(t, http.StatusNotFound, r.Code)
		r = e.do("POST", "/api/v1/channels/nope/test", e.admin, "")
		assert.Equal(t, http.StatusNotFound, r.Code)
	})
}

func TestChannelTestSendsAndReportsOutcome(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		pid := e.project("Acme")
		good := newHookServer(t, http.StatusOK)
		gone := newHookServer(t, http.StatusNotFound)
		okID := e.mustCreate("/channels", `{"projectId":`+quote(pid)+`,"name":"good","kind":"webhook","config":{"url":`+quote(good.URL+"/h")+`}}`)
		badID := e.mustCreate("/channels", `{"projectId":`+quote(pid)+`,"name":"gone","kind":"webhook","config":{"url":`+quote(gone.URL+"/h")+`}}`)

		r := e.do("POST", "/api/v1/channels/"+okID+"/test", e.admin, "")
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		var out struct {
			OK        bool   `json:"ok"`
			Error     string `json:"error"`
			Permanent bool   `json:"permanent"`
		}
		r.JSON(t, &out)
		assert.True(t, out.OK)
		require.Len(t, good.bodies, 1)
		assert.Equal(t, "test", good.bodies[0]["event"])
		assert.Equal(t, "Acme", good.bodies[0]["project"].(map[string]any)["name"])

		r = e.do("POST", "/api/v1/channels/"+badID+"/test", e.admin, "")
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		r.JSON(t, &out)
		assert.False(t, out.OK)
		assert.True(t, out.Permanent)
		assert.Contains(t, out.Error, "HTTP 404")
		r = e.do("GET", "/api/v1/channels/"+badID, e.admin, "")
		var ch channelOut
		r.JSON(t, &ch)
		assert.Contains(t, ch.LastError, "HTTP 404", "a channel shows its last error")
	})
}

func TestFlipsListTheirNotifications(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		pid := e.project("Acme")
		jid := e.job(pid, "api")
		e.mustCreate("/channels", `{"projectId":`+quote(pid)+`,"name":"hook","kind":"webhook","config":{"url":"https://example.com/h"}}`)
		e.mustCreate("/channels", `{"projectId":`+quote(pid)+`,"name":"off","kind":"webhook","enabled":false,"config":{"url":"https://example.com/h"}}`)
		at := time.Now().UTC()
		_, err := e.store.ChangeStatus(jid, models.StatusDown, "HTTP 503", at)
		require.NoError(t, err)
		_, err = e.store.ChangeStatus(jid, models.StatusUp, "", at.Add(time.Minute))
		require.NoError(t, err)

		r := e.do("GET", "/api/v1/jobs/"+jid+"/flips", e.admin, "")
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		var page struct {
			Data []struct {
				ToStatus      string `json:"toStatus"`
				Reason        string `json:"reason"`
				Notifications []struct {
					ChannelName string  `json:"channelName"`
					State       string  `json:"state"`
					Attempts    int     `json:"attempts"`
					LastError   *string `json:"lastError"`
				} `json:"notifications"`
			} `json:"data"`
		}
		r.JSON(t, &page)
		require.Len(t, page.Data, 2)
		assert.Equal(t, "up", page.Data[0].ToStatus)
		assert.Equal(t, "HTTP 503", page.Data[1].Reason)
		for _, f := range page.Data {
			require.Len(t, f.Notifications, 1, "one per enabled channel")
			n := f.Notifications[0]
			assert.Equal(t, "hook", n.ChannelName)
			assert.Equal(t, "pending", n.State)
			assert.Equal(t, 0, n.Attempts)
			require.NotNil(t, n.LastError)
		}
	})
}

// TestUpdateChannelBeingDeleted: a PUT racing a DELETE of the same channel
// must answer 404 and not bring the channel back.
func TestUpdateChannelBeingDeleted(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		pid := e.project("Acme")
		r := e.do("POST", "/api/v1/channels", e.admin, `{"projectId":`+quote(pid)+`,"name":"ops","kind":"webhook",
			"config":{"url":"https://example.com/hook"}}`)
		require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
		var ch channelOut
		r.JSON(t, &ch)

		tx := e.store.DB().Begin()
		require.NoError(t, tx.Error)
		require.NoError(t, tx.Exec("DELETE FROM channels WHERE id = ?", ch.ID).Error)
		done := make(chan response, 1)
		go func() { // no require here: FailNow must run on the test's goroutine
			req := httptest.NewRequest("PUT", "/api/v1/channels/"+ch.ID, strings.NewReader(`{"name": "renamed"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-API-Key", e.admin)
			res, err := e.app.Test(req, -1)
			if err != nil {
				done <- response{Code: -1, Body: []byte(err.Error())}
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body) // a short read shows up as a wrong body below
			done <- response{Code: res.StatusCode, Body: b}
		}()
		waitBlockedBehind(t, e, tx)
		require.NoError(t, tx.Commit().Error)
		r = <-done
		assert.Equal(t, http.StatusNotFound, r.Code, "%s", r.Body)
		assert.EqualValues(t, 0, e.count("channels"), "the deleted channel stays deleted")
	})
}
