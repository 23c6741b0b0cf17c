package models

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// Channel limits.
const (
	MaxRemindEvery   = 7 * 24 * 60 // minutes: a week
	MaxEmailTo       = 20
	maxChannelString = 512
	// Masked is what replaces a secret when a channel is read back.
	Masked = "****"
)

// channelKeys lists each kind's config keys; secret keys are masked when
// read back.
var channelKeys = map[string][]string{
	ChannelSlackWebhook: {"url"},
	ChannelSlackBot:     {"token", "channel"},
	ChannelWebhook:      {"url", "secret"},
	ChannelEmail:        {"to"},
}

// ChannelKinds lists the kinds a channel may have.
var ChannelKinds = []string{ChannelSlackWebhook, ChannelSlackBot, ChannelWebhook, ChannelEmail}

// ChannelRequest is the body of POST and PUT /channels. Nil fields were not
// sent. A PUT that sends config replaces the whole config, except that a
// secret sent back in its masked form (as GET shows it) keeps its stored
// value, so a client can edit a channel it read without knowing its secrets.
type ChannelRequest struct {
	ProjectID   *string  `json:"projectId"`
	Name        *string  `json:"name"`
	Kind        *string  `json:"kind"`
	Config      *JSONMap `json:"config"`
	Enabled     *bool    `json:"enabled"`
	RemindEvery *int     `json:"remindEvery"`
}

// Patch applies the sent fields to ch and validates the result.
func (r *ChannelRequest) Patch(ch *Channel) error {
	old := *ch
	if r.ProjectID != nil {
		ch.ProjectID = strings.TrimSpace(*r.ProjectID)
	}
	if r.Name != nil {
		ch.Name = strings.TrimSpace(*r.Name)
	}
	if r.Kind != nil {
		ch.Kind = strings.TrimSpace(*r.Kind)
	}
	if r.Enabled != nil {
		ch.Enabled = *r.Enabled
	}
	if r.RemindEvery != nil {
		ch.RemindEvery = *r.RemindEvery
	}
	if r.Config != nil {
		ch.Config = JSONMap{}
		for k, v := range *r.Config {
			ch.Config[k] = v
		}
		if old.Kind == ch.Kind {
			keepMaskedSecrets(ch.Config, old.Config, ch.Kind)
		}
	} else if ch.Kind != old.Kind {
		return invalid("config", "is required when the kind changes")
	}
	if ch.ProjectID == "" {
		return invalid("projectId", "is required")
	}
	if err := validateName(ch.Name); err != nil {
		return err
	}
	if ch.RemindEvery < 0 || ch.RemindEvery > MaxRemindEvery {
		return invalid("remindEvery", "must be from 0 (no reminders) to %d minutes", MaxRemindEvery)
	}
	cfg, err := normalizeConfig(ch.Kind, ch.Config)
	if err != nil {
		return err
	}
	ch.Config = cfg
	return nil
}

// keepMaskedSecrets puts back the stored value of every secret that was sent
// in its masked form.
func keepMaskedSecrets(cfg, stored JSONMap, kind string) {
	masked := MaskConfig(kind, stored)
	for k, v := range cfg {
		if s, ok := v.(string); ok && strings.Contains(s, Masked) && masked[k] == s {
			cfg[k] = stored[k]
		}
	}
}

// normalizeConfig checks a config for its kind and returns a clean copy
// holding only the kind's keys with the right types.
func normalizeConfig(kind string, cfg JSONMap) (JSONMap, error) {
	keys, ok := channelKeys[kind]
	if !ok {
		return nil, invalid("kind", "must be one of %s", strings.Join(ChannelKinds, ", "))
	}
	if cfg == nil {
		return nil, invalid("config", "is required")
	}
	extra := []string{}
	for k := range cfg {
		if !slices.Contains(keys, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, invalid("config."+extra[0], "is not a setting of a %s channel (it takes %s)", kind, strings.Join(keys, ", "))
	}
	out := JSONMap{}
	str := func(key string, required bool) (string, error) {
		v, present := cfg[key]
		if !present || v == nil {
			if required {
				return "", invalid("config."+key, "is required for a %s channel", kind)
			}
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", invalid("config."+key, "must be a string")
		}
		s = strings.TrimSpace(s)
		if required && s == "" {
			return "", invalid("config."+key, "is required for a %s channel", kind)
		}
		if len(s) > maxChannelString {
			return "", invalid("config."+key, "must be at most %d characters", maxChannelString)
		}
		if strings.ContainsAny(s, "\r\n\x00") {
			return "", invalid("config."+key, "must be a single line")
		}
		return s, nil
	}
	switch kind {
	case ChannelSlackWebhook, ChannelWebhook:
		u, err := str("url", true)
		if err != nil {
			return nil, err
		}
		if err := validateHTTPURL("config.url", u); err != nil {
			return nil, err
		}
		out["url"] = u
		if kind == ChannelWebhook {
			secret, err := str("secret", false)
			if err != nil {
				return nil, err
			}
			out["secret"] = secret
		}
	case ChannelSlackBot:
		token, err := str("token", true)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(token, "xox") || strings.ContainsAny(token, " \t") {
			return nil, invalid("config.token", "must be a Slack token (xoxb-…)")
		}
		channel, err := str("channel", true)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(channel, " \t") || len(channel) > 80 {
			return nil, invalid("config.channel", "must be a channel id or #name without spaces")
		}
		out["token"], out["channel"] = token, channel
	case ChannelEmail:
		to, err := emailList(cfg["to"])
		if err != nil {
			return nil, err
		}
		out["to"] = to
	}
	return out, nil
}

// emailList validates config.to: 1..MaxEmailTo addresses.
func emailList(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		if ss, isStrings := v.([]string); isStrings {
			for _, s := range ss {
				list = append(list, s)
			}
			ok = true
		}
	}
	if v == nil || !ok {
		return nil, invalid("config.to", "must be an array of e-mail addresses")
	}
	if len(list) == 0 || len(list) > MaxEmailTo {
		return nil, invalid("config.to", "must hold from 1 to %d addresses", MaxEmailTo)
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, invalid(fmt.Sprintf("config.to[%d]", i), "must be a string")
		}
		addr, err := mail.ParseAddress(strings.TrimSpace(s))
		if err != nil || strings.ContainsAny(s, "\r\n") {
			return nil, invalid(fmt.Sprintf("config.to[%d]", i), "%q is not an e-mail address", truncate(s, 80))
		}
		out = append(out, addr.Address)
	}
	return out, nil
}

// MaskConfig returns a copy of a channel config with its secrets masked:
// the path of a webhook URL past its first segments (and its query), the
// body of a token, a webhook secret.
func MaskConfig(kind string, cfg JSONMap) JSONMap {
	out := JSONMap{}
	for k, v := range cfg {
		out[k] = v
	}
	s := func(k string) string { v, _ := cfg[k].(string); return v }
	switch kind {
	case ChannelSlackWebhook, ChannelWebhook:
		if u := s("url"); u != "" {
			out["url"] = maskURL(u)
		}
		if sec := s("secret"); sec != "" {
			out["secret"] = Masked
		}
	case ChannelSlackBot:
		if t := s("token"); t != "" {
			out["token"] = maskToken(t)
		}
	}
	return out
}

// maskURL keeps the scheme, host and up to two leading path segments
// (never the last one): https://hooks.slack.com/services/T00/****.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Masked
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	keep := min(2, len(segs)-1)
	if keep < 0 {
		keep = 0
	}
	path := "/"
	if keep > 0 {
		path += strings.Join(segs[:keep], "/") + "/"
	}
	return u.Scheme + "://" + u.Host + path + Masked
}

// maskToken keeps a Slack token's type prefix: xoxb-****.
func maskToken(t string) string {
	if i := strings.IndexByte(t, '-'); i > 0 && i <= 5 {
		return t[:i+1] + Masked
	}
	return Masked
}

// ConfigString returns a string setting of the channel's config.
func (ch *Channel) ConfigString(key string) string {
	v, _ := ch.Config[key].(string)
	return v
}

// ConfigStrings returns a list setting of the channel's config.
func (ch *Channel) ConfigStrings(key string) []string {
	switch v := ch.Config[key].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			if s, ok := item.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
