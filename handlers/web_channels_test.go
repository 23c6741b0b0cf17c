package handlers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slackAPI answers chat.postMessage as Slack's Web API does: ok for the
// token good, invalid_auth for any other.
type slackAPI struct {
	*httptest.Server
	mu     sync.Mutex
	posted []url.Values
	good   string
}

func newSlackAPI(t *testing.T, good string) *slackAPI {
	s := &slackAPI{good: good}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/chat.postMessage" || r.ParseForm() != nil {
			http.Error(w, "not here", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		token := r.PostForm.Get("token")
		if token == "" {
			token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		if token != s.good {
			_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		s.mu.Lock()
		s.posted = append(s.posted, r.PostForm)
		s.mu.Unlock()
		_, _ = io.WriteString(w, `{"ok":true,"channel":"C123","ts":"1700000000.000100"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// channelByName finds a stored channel.
func (e *env) channelByName(name string) *models.Channel {
	e.t.Helper()
	chans, err := e.store.Channels(models.ChannelFilter{Page: models.Page{Limit: 100}})
	require.NoError(e.t, err)
	for i := range chans {
		if chans[i].Name == name {
			return &chans[i]
		}
	}
	e.t.Fatalf("no channel %q", name)
	return nil
}

// withForm is f with _csrf set.
func withCSRF(token string, pairs ...string) url.Values {
	return form(append([]string{"_csrf", token}, pairs...)...)
}

func TestWebChannelForms(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		pid := e.project("Shop")
		b, token := e.as(models.RoleAdmin)

		e.run(t, "each kind has its own labelled fields", func(t *testing.T) {
			fields := map[string][]string{
				"slack":         {"ch-url"},
				"slack_webhook": {"ch-url"},
				"slack_bot":     {"ch-token", "ch-channel"},
				"webhook":       {"ch-url", "ch-secret"},
				"email":         {"ch-to"},
			}
			all := []string{"ch-url", "ch-token", "ch-channel", "ch-secret", "ch-to"}
			for kind, want := range fields {
				r := b.get("/channels/new?kind=" + kind)
				require.Equal(t, http.StatusOK, r.Code, kind)
				body := string(r.Body)
				for _, id := range append(want, "ch-project", "ch-name", "ch-remind", "ch-enabled") {
					assert.Contains(t, body, `id="`+id+`"`, kind)
					assert.Contains(t, body, `<label for="`+id+`"`, "%s: %s has a label", kind, id)
				}
				for _, id := range all {
					if !contains(want, id) {
						assert.NotContains(t, body, `id="`+id+`"`, kind)
					}
				}
				assert.Contains(t, body, `<option value="`+pid+`">Shop</option>`)
			}
		})

		e.run(t, "validation errors sit by their field and keep what was typed", func(t *testing.T) {
			cases := []struct {
				name   string
				form   url.Values
				errID  string
				kept   []string
				reason string
			}{
				{"bad url", withCSRF(token, "kind", "webhook", "project", pid, "name", "my hook", "url", "not a url", "secret", "s3"),
					"ch-url-error", []string{`value="my hook"`, `value="not a url"`, `value="s3"`}, "must not contain spaces"},
				{"bad address", withCSRF(token, "kind", "email", "project", pid, "name", "mail", "to", "ops@example.com\nnobody"),
					"ch-to-error", []string{">ops@example.com\nnobody</textarea>"}, "is not an e-mail address"},
				{"no address", withCSRF(token, "kind", "email", "project", pid, "name", "mail", "to", " "),
					"ch-to-error", nil, "must hold from 1 to"},
				{"bad token", withCSRF(token, "kind", "slack_bot", "project", pid, "name", "bot", "token", "nope", "channel", "#ops"),
					"ch-token-error", []string{`value="nope"`, `value="#ops"`}, "must be a Slack token"},
				{"no project", withCSRF(token, "kind", "slack_webhook", "name", "s", "url", "https://hooks.slack.com/services/T/B/C"),
					"ch-project-error", []string{`value="s"`}, "is required"},
				{"unknown project", withCSRF(token, "kind", "slack_webhook", "project", "nope", "name", "s", "url", "https://hooks.slack.com/services/T/B/C"),
					"ch-project-error", nil, "does not exist"},
				{"no name", withCSRF(token, "kind", "webhook", "project", pid, "name", " ", "url", "https://example.com/h"),
					"ch-name-error", []string{`value="https://example.com/h"`}, ""},
				{"reminder not a number", withCSRF(token, "kind", "webhook", "project", pid, "name", "h", "url", "https://example.com/h", "remind_every", "soon"),
					"ch-remind-error", []string{`value="soon"`}, "whole number"},
				{"reminder too long", withCSRF(token, "kind", "webhook", "project", pid, "name", "h", "url", "https://example.com/h", "remind_every", "99999999"),
					"ch-remind-error", []string{`value="99999999"`}, "minutes"},
			}
			for _, tc := range cases {
				r := b.post("/channels", tc.form)
				require.Equal(t, http.StatusBadRequest, r.Code, "%s: %s", tc.name, r.Body)
				body := string(r.Body)
				assert.Contains(t, body, `id="`+tc.errID+`"`, tc.name)
				assert.Contains(t, body, tc.reason, tc.name)
				for _, k := range tc.kept {
					assert.Contains(t, body, k, tc.name)
				}
			}
			assert.Zero(t, e.count("channels"), "nothing created")
			assert.Equal(t, http.StatusBadRequest, b.post("/channels", withCSRF(token, "kind", "sms", "project", pid, "name", "x")).Code)
		})

		secrets := map[string]string{
			"slack_webhook": "https://hooks.slack.com/services/T00/B00/HOOKSECRET",
			"slack_bot":     "xoxb-111-222-BOTSECRET",
			"webhook":       "WEBHOOKSECRET",
		}
		e.run(t, "create each kind; secrets never shown after saving", func(t *testing.T) {
			posts := []url.Values{
				withCSRF(token, "kind", "slack_webhook", "project", pid, "name", "slack hook", "url", secrets["slack_webhook"], "enabled", "on", "remind_every", "60"),
				withCSRF(token, "kind", "slack_bot", "project", pid, "name", "slack bot", "token", secrets["slack_bot"], "channel", "#ops", "enabled", "on"),
				withCSRF(token, "kind", "webhook", "project", pid, "name", "hook", "url", "https://example.com/h/PATHSECRET", "secret", secrets["webhook"]),
				withCSRF(token, "kind", "email", "project", pid, "name", "mail", "to", "ops@example.com\r\nOncall@Example.com", "enabled", "on"),
			}
			for _, f := range posts {
				r := b.post("/channels", f)
				require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
				assert.Equal(t, "/channels", location(r))
			}
			assert.Contains(t, string(b.get("/channels").Body), "Channel mail created.", "the flash of the last creation")
			hook := e.channelByName("slack hook")
			assert.Equal(t, secrets["slack_webhook"], hook.ConfigString("url"))
			assert.Equal(t, 60, hook.RemindEvery)
			assert.True(t, hook.Enabled)
			assert.False(t, e.channelByName("hook").Enabled, "an unchecked box disables")
			assert.Equal(t, []string{"ops@example.com", "Oncall@Example.com"}, e.channelByName("mail").ConfigStrings("to"))

			pages := []string{"/channels"}
			for _, name := range []string{"slack hook", "slack bot", "hook", "mail"} {
				pages = append(pages, "/channels/"+e.channelByName(name).ID+"/edit")
			}
			for _, path := range pages {
				body := string(b.get(path).Body)
				for _, s := range []string{"HOOKSECRET", "BOTSECRET", "WEBHOOKSECRET", "PATHSECRET"} {
					assert.NotContains(t, body, s, path)
				}
			}
			list := string(b.get("/channels").Body)
			assert.Contains(t, list, "url: https://hooks.slack.com/services/T00/****")
			assert.Contains(t, list, "token: xoxb-****")
			assert.Contains(t, list, "channel: #ops")
			assert.Contains(t, list, "secret: ****")
			assert.Contains(t, list, "to: ops@example.com, Oncall@Example.com")
			assert.Contains(t, list, "<td class=\"opt\">Shop</td>")
			assert.Contains(t, list, "Slack (bot token)")
		})

		e.run(t, "edit: the mask sent back keeps the secret", func(t *testing.T) {
			bot := e.channelByName("slack bot")
			edit := string(b.get("/channels/" + bot.ID + "/edit").Body)
			assert.Contains(t, edit, `value="xoxb-****"`)
			assert.Contains(t, edit, `action="/channels/`+bot.ID+`"`)
			r := b.post("/channels/"+bot.ID, withCSRF(token, "project", pid, "name", "slack bot 2", "token", "xoxb-****", "channel", "#alerts", "enabled", "on"))
			require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
			got := e.channelByName("slack bot 2")
			assert.Equal(t, secrets["slack_bot"], got.ConfigString("token"), "the stored token stays")
			assert.Equal(t, "#alerts", got.ConfigString("channel"))

			hook := e.channelByName("hook")
			edit = string(b.get("/channels/" + hook.ID + "/edit").Body)
			assert.Contains(t, edit, `value="****"`)
			assert.Contains(t, edit, `value="https://example.com/h/****"`)
			r = b.post("/channels/"+hook.ID, withCSRF(token, "project", pid, "name", "hook", "url", "https://example.com/h/****", "secret", "****", "enabled", "on"))
			require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
			got = e.channelByName("hook")
			assert.Equal(t, "https://example.com/h/PATHSECRET", got.ConfigString("url"))
			assert.Equal(t, secrets["webhook"], got.ConfigString("secret"))
			assert.True(t, got.Enabled)

			r = b.post("/channels/"+hook.ID, withCSRF(token, "project", pid, "name", "hook", "url", "https://example.com/new", "secret", "fresh", "enabled", "on"))
			require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
			got = e.channelByName("hook")
			assert.Equal(t, "https://example.com/new", got.ConfigString("url"), "a typed value replaces the secret")
			assert.Equal(t, "fresh", got.ConfigString("secret"))

			r = b.post("/channels/"+hook.ID, withCSRF(token, "project", pid, "name", "", "url", "https://example.com/****", "secret", "****"))
			assert.Equal(t, http.StatusBadRequest, r.Code)
			body := string(r.Body)
			assert.Contains(t, body, `id="ch-name-error"`)
			assert.Contains(t, body, `value="****"`, "the mask typed is kept")
			assert.NotContains(t, body, "fresh")
			assert.Equal(t, "hook", e.channelByName("hook").Name, "nothing saved")
			assert.Equal(t, http.StatusNotFound, b.post("/channels/nope", withCSRF(token, "name", "x")).Code)
		})

		e.run(t, "delete asks first", func(t *testing.T) {
			mail := e.channelByName("mail")
			n := e.count("channels")
			r := b.post("/channels/"+mail.ID+"/delete", withCSRF(token))
			require.Equal(t, http.StatusOK, r.Code)
			assert.Contains(t, string(r.Body), `action="/channels/`+mail.ID+`/delete"`)
			assert.Contains(t, string(r.Body), `name="confirm" value="yes"`)
			assert.Equal(t, n, e.count("channels"), "not yet")
			r = b.post("/channels/"+mail.ID+"/delete", withCSRF(token, "confirm", "yes"))
			assert.Equal(t, http.StatusSeeOther, r.Code)
			assert.Equal(t, n-1, e.count("channels"))
			_, err := e.store.Channel(mail.ID)
			assert.True(t, models.IsNotFound(err))
			assert.Contains(t, string(b.get("/channels").Body), "Channel mail deleted.")
			assert.Equal(t, http.StatusNotFound, b.post("/channels/"+mail.ID+"/delete", withCSRF(token, "confirm", "yes")).Code)
		})
	})
}

// TestWebChannelSendTest: "send test" goes through the API's tester and
// shows the receiver's answer.
func TestWebChannelSendTest(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			slack := newSlackAPI(t, "xoxb-good-TOKENSECRET")
			e := newEnv(t, db, func(c *app.Config) { c.SlackAPIURL = slack.URL + "/api/" })
			pid := e.project("Shop")
			good := newHookServer(t, http.StatusOK)
			gone := newHookServer(t, http.StatusNotFound)
			create := func(name, kind, config string) string {
				return e.mustCreate("/channels", `{"projectId":`+quote(pid)+`,"name":`+quote(name)+`,"kind":`+quote(kind)+`,"config":`+config+`}`)
			}
			okID := create("good", "webhook", `{"url":`+quote(good.URL+"/h")+`}`)
			goneID := create("gone", "webhook", `{"url":`+quote(gone.URL+"/h/PATHSECRET")+`}`)
			botID := create("bot", "slack_bot", `{"token":"xoxb-good-TOKENSECRET","channel":"#ops"}`)
			badBotID := create("bad bot", "slack_bot", `{"token":"xoxb-bad-TOKENSECRET","channel":"#ops"}`)
			b, token := e.as(models.RoleAdmin)

			flashOf := func(id string) string {
				t.Helper()
				r := b.post("/channels/"+id+"/test", withCSRF(token))
				require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
				require.Equal(t, "/channels", location(r))
				m := regexp.MustCompile(`<p class="flash (flash-\w+)"[^>]*>([^<]*)</p>`).FindStringSubmatch(string(b.get("/channels").Body))
				require.NotNil(t, m, "a flash shows the outcome")
				return m[1] + " " + m[2]
			}
			assert.Equal(t, "flash-ok Test message sent to good.", flashOf(okID))
			require.Len(t, good.bodies, 1)
			assert.Equal(t, "test", good.bodies[0]["event"])

			msg := flashOf(goneID)
			assert.True(t, strings.HasPrefix(msg, "flash-error The test message to gone failed: "), msg)
			assert.Contains(t, msg, "HTTP 404")
			assert.NotContains(t, msg, "PATHSECRET")
			ch, err := e.store.Channel(goneID)
			require.NoError(t, err)
			assert.Contains(t, ch.LastError, "HTTP 404", "recorded on the channel, as the API does")

			assert.Equal(t, "flash-ok Test message sent to bot.", flashOf(botID))
			require.Len(t, slack.posted, 1)
			assert.Equal(t, "#ops", slack.posted[0].Get("channel"))
			msg = flashOf(badBotID)
			assert.Contains(t, msg, "flash-error The test message to bad bot failed: ")
			assert.Contains(t, msg, "invalid_auth")
			list := string(b.get("/channels").Body)
			assert.NotContains(t, list, "TOKENSECRET")
			assert.NotContains(t, list, "PATHSECRET")
			assert.Contains(t, list, "invalid_auth", "the last error shows in the list")

			assert.Equal(t, http.StatusNotFound, b.post("/channels/nope/test", withCSRF(token)).Code)
		})
	}
}
