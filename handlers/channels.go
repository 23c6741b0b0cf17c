package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// ChannelTester sends a test message to a channel (the notifier's
// Dispatcher does).
type ChannelTester interface {
	Test(ctx context.Context, ch *models.Channel, projectName string) error
}

// channelTestTimeout bounds POST /channels/{id}/test.
const channelTestTimeout = 20 * time.Second

// channelView is a channel as the API shows it: its secrets masked.
type channelView struct {
	models.Channel
}

func viewChannel(ch *models.Channel) channelView {
	v := channelView{Channel: *ch}
	v.Config = models.MaskConfig(ch.Kind, ch.Config)
	return v
}

func (a *API) listChannels(c *fiber.Ctx) error {
	page, err := parsePage(c, MaxPageSize)
	if err != nil {
		return err
	}
	f := models.ChannelFilter{ProjectID: c.Query("projectId"), Page: page}
	f.Limit++ // one more tells whether there is a next page
	chans, err := a.store.Channels(f)
	if err != nil {
		return err
	}
	if len(chans) > page.Limit {
		chans = chans[:page.Limit]
		setNextLink(c, a.baseURL, chans[page.Limit-1].ID, page.Limit)
	}
	out := make([]channelView, len(chans))
	for i := range chans {
		out[i] = viewChannel(&chans[i])
	}
	return c.JSON(out)
}

func (a *API) createChannel(c *fiber.Ctx) error {
	var req models.ChannelRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ch, err := a.store.NewChannel(&req)
	if err != nil {
		return err
	}
	if err := a.store.CreateChannel(ch); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(viewChannel(ch))
}

func (a *API) getChannel(c *fiber.Ctx) error {
	ch, err := a.store.Channel(c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(viewChannel(ch))
}

func (a *API) updateChannel(c *fiber.Ctx) error {
	var req models.ChannelRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ch, err := a.store.UpdateChannel(c.Params("id"), &req)
	if err != nil {
		return err
	}
	return c.JSON(viewChannel(ch))
}

func (a *API) deleteChannel(c *fiber.Ctx) error {
	if err := a.store.DeleteChannel(c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// channelTestResult is the outcome of POST /channels/{id}/test. A failed
// delivery is still a 200: the request worked, its answer is that the
// receiver did not take the message, and why.
type channelTestResult struct {
	OK        bool   `json:"ok"`
	Error     string `json:"error,omitempty"`
	Permanent bool   `json:"permanent,omitempty"` // retrying would not help
}

// testChannel sends a test message now (not through the outbox) and
// records the outcome on the channel.
func (a *API) testChannel(c *fiber.Ctx) error {
	if a.channels == nil {
		if _, err := a.store.Channel(c.Params("id")); err != nil {
			return err
		}
		return fiber.NewError(fiber.StatusServiceUnavailable, "the notifier is not configured")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), channelTestTimeout)
	defer cancel()
	_, sendErr, err := sendTestMessage(ctx, a.store, a.channels, c.Params("id"))
	if err != nil {
		return err
	}
	if sendErr != nil {
		return c.JSON(channelTestResult{Error: sendErr.Error(), Permanent: isPermanent(sendErr)})
	}
	return c.JSON(channelTestResult{OK: true})
}

// sendTestMessage sends channel id a test message with t and records the
// outcome on the channel: sendErr is the receiver's answer, err a failure
// to look the channel up or record the outcome.
func sendTestMessage(ctx context.Context, store *models.Store, t ChannelTester, id string) (ch *models.Channel, sendErr, err error) {
	if ch, err = store.Channel(id); err != nil {
		return nil, nil, err
	}
	p, err := store.Project(ch.ProjectID)
	if err != nil {
		return nil, nil, err
	}
	sendErr = t.Test(ctx, ch, p.Name)
	if err := store.RecordChannelResult(ch.ID, sendErr, store.Now()); err != nil {
		return nil, nil, err
	}
	return ch, sendErr, nil
}

// isPermanent reports whether a send error says retrying will not help
// (the notifier's PermanentError has a Permanent method), without
// importing the notifier.
func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}
