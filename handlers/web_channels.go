package handlers

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// channelKindLabels name the channel kinds on the dashboard.
var channelKindLabels = map[string]string{
	models.ChannelSlackWebhook: "Slack (incoming webhook)",
	models.ChannelSlackBot:     "Slack (bot token)",
	models.ChannelWebhook:      "Webhook",
	models.ChannelEmail:        "E-mail",
}

// channelKindAliases are the short kinds the new channel page accepts
// (?kind=slack is a Slack incoming webhook).
var channelKindAliases = map[string]string{"slack": models.ChannelSlackWebhook}

// channelListPage bounds the channels page: one page of the store's
// largest.
const channelListPage = 500

// channelRow is one channel of the channels page: its config masked, as
// "key: value" lines.
type channelRow struct {
	models.Channel
	KindLabel string
	Project   string
	Settings  []string
}

// channelKind is one kind of the "new channel" links.
type channelKind struct{ Kind, Label string }

// channelsData is the channels page's data.
type channelsData struct {
	Channels []channelRow
	Kinds    []channelKind
}

// channelForm is the data of the channel form: what was typed (or, when
// editing, the stored channel with its secrets masked) and the errors by
// field.
type channelForm struct {
	ID          string // "" for a new channel
	Kind        string
	KindLabel   string
	Project     string
	Name        string
	Enabled     bool
	RemindEvery string
	URL         string
	Token       string
	Channel     string
	Secret      string
	To          string // one address a line
	Projects    []models.Project
	Errors      fieldErrors
}

// Action is where the form posts.
func (f channelForm) Action() string {
	if f.ID == "" {
		return "/channels"
	}
	return "/channels/" + f.ID
}

// channelFieldNames maps the store's field names to the form's.
var channelFieldNames = map[string]string{"projectId": "project", "remindEvery": "remind_every"}

func channelKinds() []channelKind {
	out := make([]channelKind, len(models.ChannelKinds))
	for i, k := range models.ChannelKinds {
		out[i] = channelKind{Kind: k, Label: channelKindLabels[k]}
	}
	return out
}

func (w *Web) channelList(c *fiber.Ctx) error {
	chans, err := w.store.Channels(models.ChannelFilter{Page: models.Page{Limit: channelListPage}})
	if err != nil {
		return err
	}
	ids := make([]string, len(chans))
	for i := range chans {
		ids[i] = chans[i].ProjectID
	}
	names, err := w.store.ProjectNames(ids)
	if err != nil {
		return err
	}
	d := channelsData{Kinds: channelKinds()}
	for i := range chans {
		ch := viewChannel(&chans[i]).Channel
		row := channelRow{Channel: ch, KindLabel: channelKindLabels[ch.Kind], Project: names[ch.ProjectID]}
		for k := range ch.Config {
			v := ch.ConfigString(k)
			if list := ch.ConfigStrings(k); v == "" && list != nil {
				v = strings.Join(list, ", ")
			}
			if v != "" {
				row.Settings = append(row.Settings, k+": "+v)
			}
		}
		sort.Strings(row.Settings)
		d.Channels = append(d.Channels, row)
	}
	return w.render(c, fiber.StatusOK, "channels", w.page(c, "Channels", "channels", d))
}

// projectsForForm lists the projects a channel may belong to.
func (w *Web) projectsForForm() ([]models.Project, error) {
	return w.store.Projects(models.ProjectFilter{Page: models.Page{Limit: channelListPage}})
}

func (w *Web) renderChannelForm(c *fiber.Ctx, status int, f channelForm) error {
	var err error
	if f.Projects, err = w.projectsForForm(); err != nil {
		return err
	}
	f.KindLabel = channelKindLabels[f.Kind]
	title := "New " + f.KindLabel + " channel"
	if f.ID != "" {
		title = "Edit " + f.Name
	}
	return w.render(c, status, "channel_form", w.page(c, title, "channels", f))
}

func (w *Web) channelNew(c *fiber.Ctx) error {
	kind := strings.Clone(c.Query("kind"))
	if alias, ok := channelKindAliases[kind]; ok {
		kind = alias
	}
	if _, ok := channelKindLabels[kind]; !ok {
		return fiber.NewError(fiber.StatusNotFound, "There is no channel kind "+strconv.Quote(kind)+".")
	}
	return w.renderChannelForm(c, fiber.StatusOK, channelForm{Kind: kind, Enabled: true, RemindEvery: "0",
		Project: strings.Clone(c.Query("project"))})
}

// readChannelForm reads the posted form into f (keeping what was typed)
// and the request the API would get for it.
func readChannelForm(c *fiber.Ctx, f *channelForm) (*models.ChannelRequest, fieldErrors) {
	get := func(k string) string { return strings.Clone(c.FormValue(k)) }
	f.Project, f.Name, f.RemindEvery = get("project"), get("name"), strings.TrimSpace(get("remind_every"))
	f.Enabled = c.FormValue("enabled") == "on"
	f.URL, f.Token, f.Channel, f.Secret, f.To = get("url"), get("token"), get("channel"), get("secret"), get("to")
	remind := 0
	if f.RemindEvery != "" {
		n, err := strconv.Atoi(f.RemindEvery)
		if err != nil {
			return nil, fieldErrors{"remind_every": "must be a whole number of minutes"}
		}
		remind = n
	}
	cfg := models.JSONMap{}
	switch f.Kind {
	case models.ChannelSlackWebhook:
		cfg["url"] = f.URL
	case models.ChannelSlackBot:
		cfg["token"], cfg["channel"] = f.Token, f.Channel
	case models.ChannelWebhook:
		cfg["url"], cfg["secret"] = f.URL, f.Secret
	case models.ChannelEmail:
		to := []any{}
		for _, line := range strings.FieldsFunc(f.To, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
			if line = strings.TrimSpace(line); line != "" {
				to = append(to, line)
			}
		}
		cfg["to"] = to
	}
	kind := f.Kind
	return &models.ChannelRequest{ProjectID: &f.Project, Name: &f.Name, Kind: &kind, Config: &cfg,
		Enabled: &f.Enabled, RemindEvery: &remind}, nil
}

// channelCreate serves POST /channels, validated by the store as POST
// /api/v1/channels is.
func (w *Web) channelCreate(c *fiber.Ctx) error {
	f := channelForm{Kind: strings.Clone(c.FormValue("kind"))}
	if _, ok := channelKindLabels[f.Kind]; !ok {
		return fiber.NewError(fiber.StatusBadRequest, "There is no channel kind "+strconv.Quote(f.Kind)+".")
	}
	return w.saveChannel(c, f, "created", func(req *models.ChannelRequest) (*models.Channel, error) {
		ch, err := w.store.NewChannel(req)
		if err == nil {
			err = w.store.CreateChannel(ch)
		}
		return ch, err
	})
}

// saveChannel reads the posted form into f and saves it with save: on
// success a flash says the channel was done, else the form shows again
// with what was typed and the errors.
func (w *Web) saveChannel(c *fiber.Ctx, f channelForm, done string, save func(*models.ChannelRequest) (*models.Channel, error)) error {
	req, errs := readChannelForm(c, &f)
	if errs == nil {
		ch, err := save(req)
		if errs, err = fieldErrorsOf(err, channelFieldNames); err != nil {
			return err
		}
		if errs == nil {
			w.flash(c, "ok", "Channel "+ch.Name+" "+done+".")
			return c.Redirect("/channels", fiber.StatusSeeOther)
		}
	}
	f.Errors = errs
	return w.renderChannelForm(c, fiber.StatusBadRequest, f)
}

func (w *Web) channelEdit(c *fiber.Ctx) error {
	ch, err := w.store.Channel(c.Params("id"))
	if err != nil {
		return err
	}
	masked := viewChannel(ch).Channel
	f := channelForm{ID: ch.ID, Kind: ch.Kind, Project: ch.ProjectID, Name: ch.Name, Enabled: ch.Enabled,
		RemindEvery: strconv.Itoa(ch.RemindEvery), URL: masked.ConfigString("url"), Token: masked.ConfigString("token"),
		Channel: masked.ConfigString("channel"), Secret: masked.ConfigString("secret"),
		To: strings.Join(masked.ConfigStrings("to"), "\n")}
	return w.renderChannelForm(c, fiber.StatusOK, f)
}

// channelUpdate serves POST /channels/{id}: the whole channel as the form
// shows it, through the store's update as PUT /api/v1/channels/{id}; a
// secret sent back in its masked form keeps its stored value. The kind
// does not change.
func (w *Web) channelUpdate(c *fiber.Ctx) error {
	ch, err := w.store.Channel(c.Params("id"))
	if err != nil {
		return err
	}
	f := channelForm{ID: ch.ID, Kind: ch.Kind}
	return w.saveChannel(c, f, "saved", func(req *models.ChannelRequest) (*models.Channel, error) {
		return w.store.UpdateChannel(ch.ID, req)
	})
}

// channelDelete serves POST /channels/{id}/delete: a confirmation page,
// then (confirm=yes) the deletion.
func (w *Web) channelDelete(c *fiber.Ctx) error {
	ch, err := w.store.Channel(c.Params("id"))
	if err != nil {
		return err
	}
	if !confirmed(c) {
		return w.confirm(c, "Delete "+ch.Name+"?", "channels", confirmData{
			Message: "The channel " + ch.Name + " and the record of its deliveries will be deleted; its project's alerts no longer go there.",
			Action:  "/channels/" + ch.ID + "/delete", Button: "Delete " + ch.Name, Cancel: "/channels",
		})
	}
	if err := w.store.DeleteChannel(ch.ID); err != nil {
		return err
	}
	w.flash(c, "ok", "Channel "+ch.Name+" deleted.")
	return c.Redirect("/channels", fiber.StatusSeeOther)
}

// channelTest serves POST /channels/{id}/test: a test message sent now,
// as POST /api/v1/channels/{id}/test sends it, its outcome in a flash.
func (w *Web) channelTest(c *fiber.Ctx) error {
	if w.channels == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "The notifier is not configured.")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), channelTestTimeout)
	defer cancel()
	ch, sendErr, err := sendTestMessage(ctx, w.store, w.channels, c.Params("id"))
	if err != nil {
		return err
	}
	if sendErr != nil {
		msg := sendErr.Error()
		if len(msg) > 300 {
			msg = strings.ToValidUTF8(msg[:300], "") + "…"
		}
		w.flash(c, "error", "The test message to "+ch.Name+" failed: "+msg)
	} else {
		w.flash(c, "ok", "Test message sent to "+ch.Name+".")
	}
	return c.Redirect("/channels", fiber.StatusSeeOther)
}
