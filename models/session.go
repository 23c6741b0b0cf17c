package models

import (
	"errors"
	"fmt"
	"time"
)

// Session is a dashboard sign-in. The browser holds a random token; the
// table holds its SHA-256 (TokenHash), so the rows alone sign nobody in.
// CSRFToken is the value every unsafe request of the session must carry.
type Session struct {
	TokenHash  string `gorm:"primaryKey"`
	UserID     string `gorm:"column:user_id"`
	CSRFToken  string `gorm:"column:csrf_token"`
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// Slid is set by SessionUser when it moved the expiry (not stored).
	Slid bool `gorm:"-"`
}

// sessionTokenLen is the length of a session token: 43 base-62
// characters, about 256 random bits.
const sessionTokenLen = 43

// SessionTouchEvery is how often a session's last use is written: a read
// of every page would otherwise be a write too (as with API keys).
const SessionTouchEvery = time.Minute

// CreateSession signs userID in for ttl of inactivity and returns the
// session and the token for the cookie, which is not stored.
func (s *Store) CreateSession(userID string, ttl time.Duration) (*Session, string, error) {
	now := s.Now()
	token := randomString(sessionTokenLen, keyAlphabet)
	sess := &Session{
		TokenHash:  hashKey(token),
		UserID:     userID,
		CSRFToken:  randomString(sessionTokenLen, keyAlphabet),
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(ttl),
	}
	if err := s.db.Create(sess).Error; err != nil {
		return nil, "", translate(err, "create session")
	}
	return sess, token, nil
}

// SessionUser returns the unexpired session of token and its user, and
// slides its expiry to ttl after now when its last use was recorded
// SessionTouchEvery ago or more. An unknown or expired token is
// ErrNotFound.
func (s *Store) SessionUser(token string, ttl time.Duration) (*Session, *User, error) {
	var sess Session
	now := s.Now()
	err := s.db.Where("token_hash = ? AND expires_at > ?", hashKey(token), now).Take(&sess).Error
	if err != nil {
		return nil, nil, translate(err, "session")
	}
	u, err := s.User(sess.UserID)
	if err != nil {
		return nil, nil, err // the user was deleted a moment ago: the cascade takes the session
	}
	if now.Sub(sess.LastSeenAt) >= SessionTouchEvery {
		sess.LastSeenAt, sess.ExpiresAt, sess.Slid = now, now.Add(ttl), true
		err := s.db.Model(&Session{}).Where("token_hash = ?", sess.TokenHash).
			Updates(map[string]any{"last_seen_at": now, "expires_at": sess.ExpiresAt}).Error
		if err != nil {
			return nil, nil, translate(err, "touch session")
		}
	}
	return &sess, u, nil
}

// DeleteSession signs the session of token out; an unknown token is not an
// error (signing out twice is harmless).
func (s *Store) DeleteSession(token string) error {
	return translate(s.db.Where("token_hash = ?", hashKey(token)).Delete(&Session{}).Error, "delete session")
}

// PruneSessions deletes the sessions that expired before now and returns
// how many. Through the expiry index it reads only those rows.
func (s *Store) PruneSessions() (int64, error) {
	res := s.db.Where("expires_at <= ?", s.Now()).Delete(&Session{})
	if res.Error != nil {
		return 0, fmt.Errorf("prune sessions: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// IsSetupDone reports whether err is ErrSetupDone.
func IsSetupDone(err error) bool { return errors.Is(err, ErrSetupDone) }
