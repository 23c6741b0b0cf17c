package notifier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/slack-go/slack"
)

// SlackAPIURL is Slack's Web API, the default for SLACK_API_URL.
const SlackAPIURL = slack.APIURL

// permanentSlackErrors are chat.postMessage errors that retrying cannot fix:
// the token or the channel is wrong, or the app may not post there.
var permanentSlackErrors = []string{
	"invalid_auth", "invalid_token", "not_authed", "account_inactive", "token_revoked", "token_expired",
	"no_permission", "missing_scope", "channel_not_found", "not_in_channel", "is_archived",
	"restricted_action", "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
	"invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "too_many_attachments",
	"ekm_access_denied", "team_access_not_granted", "org_login_required", "invalid_arguments",
}

// SlackWebhookSender posts to a Slack incoming webhook (kind slack_webhook,
// config {url}).
type SlackWebhookSender struct {
	Client *http.Client
}

var _ Sender = (*SlackWebhookSender)(nil)

// Send implements Sender.
func (s *SlackWebhookSender) Send(ctx context.Context, ch *models.Channel, a *Alert) error {
	msg := &slack.WebhookMessage{Text: slackFallback(a), Blocks: &slack.Blocks{BlockSet: SlackBlocks(a)}}
	err := slack.PostWebhookCustomHTTPContext(ctx, ch.ConfigString("url"), s.Client, msg)
	return classifySlack(err)
}

// SlackBotSender posts with a bot token through chat.postMessage (kind
// slack_bot, config {token, channel}).
type SlackBotSender struct {
	Client *http.Client
	APIURL string // "" means Slack's own; must end in "/"
}

var _ Sender = (*SlackBotSender)(nil)

// Send implements Sender.
func (s *SlackBotSender) Send(ctx context.Context, ch *models.Channel, a *Alert) error {
	api := slack.New(ch.ConfigString("token"), slack.OptionHTTPClient(s.Client), slack.OptionAPIURL(slackAPIURL(s.APIURL)))
	_, _, err := api.PostMessageContext(ctx, ch.ConfigString("channel"),
		slack.MsgOptionText(slackFallback(a), false),
		slack.MsgOptionBlocks(SlackBlocks(a)...))
	return classifySlack(err)
}

// slackAPIURL normalises SLACK_API_URL: slack-go appends the method name.
func slackAPIURL(u string) string {
	if u == "" {
		return SlackAPIURL
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// classifySlack sorts slack-go's errors into permanent, rate-limited and
// transient ones.
func classifySlack(err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var api slack.SlackErrorResponse
	switch {
	case errors.As(err, &rl):
		return &RetryAfterError{Err: fmt.Errorf("slack: %w", err), After: rl.RetryAfter}
	case errors.As(err, &sc):
		e := fmt.Errorf("slack answered HTTP %d", sc.Code)
		switch sc.Code {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusGone:
			return Permanent(fmt.Errorf("%w (the webhook URL is wrong, revoked or its channel archived)", e))
		}
		return e
	case errors.As(err, &api):
		if slices.Contains(permanentSlackErrors, api.Err) {
			return Permanent(fmt.Errorf("slack: %s", api.Err))
		}
		return fmt.Errorf("slack: %s", api.Err)
	default:
		return fmt.Errorf("slack: %w", err)
	}
}

// slackFallback is the plain text of a Slack message, shown in
// notifications and by clients that do not render blocks.
func slackFallback(a *Alert) string {
	return a.Title() + ": " + a.Reason + " " + a.DashboardURL
}

// SlackBlocks lays an alert out in Block Kit: a header with the status, the
// facts as two-column fields (they stack on a phone), a link and a button
// to the job, and when it happened.
func SlackBlocks(a *Alert) []slack.Block {
	emoji := ":red_circle:"
	switch {
	case a.Event == EventTest:
		emoji = ":test_tube:"
	case a.Status == models.StatusUp:
		emoji = ":large_green_circle:"
	}
	header := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, cut(emoji+" "+a.Title(), 150), true, false))
	var fields []*slack.TextBlockObject
	for _, f := range a.Facts() {
		if f.Label == "When" || len(fields) == 10 {
			continue
		}
		fields = append(fields, slack.NewTextBlockObject(slack.MarkdownType, "*"+f.Label+"*\n"+cut(slackEscape(f.Value), 1900), false, false))
	}
	link := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType,
		"<"+a.DashboardURL+"|Open *"+slackEscape(cut(a.JobName, 100))+"* in CronPulse>", false, false), nil, nil)
	button := slack.NewButtonBlockElement("open_job", a.JobID, slack.NewTextBlockObject(slack.PlainTextType, "Open in CronPulse", false, false))
	button.URL = a.DashboardURL
	when := slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType,
		"CronPulse · "+a.At.UTC().Format("2006-01-02 15:04:05 UTC"), false, false))
	return []slack.Block{
		header,
		slack.NewSectionBlock(nil, fields, nil),
		link,
		slack.NewActionBlock("", button),
		when,
	}
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning to.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// cut shortens s to at most n runes.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
