"""Providers that deliver patient notifications: Twilio SMS, SendGrid e-mail, or a log."""
