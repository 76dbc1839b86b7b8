"""Refusals of notifications: delivering a message (a channel's DeliveryError) and the
mail settings (SMTP, the mail folder, the sender, retries, the web address)."""

ENTRIES: dict[str, tuple[str, str]] = {
    "delivery.failed": (
        "Vēstuli šoreiz neizdevās nosūtīt.",
        "The message could not be delivered this time.",
    ),
    "delivery.no_address": (
        "{name} nav norādīta e-pasta adrese.",
        "{name} has no e-mail address.",
    ),
    "delivery.unbuildable": (
        "Vēstuli nevar sagatavot: {reason}.",
        "The message cannot be built: {reason}.",
    ),
    "delivery.smtp_refused": (
        "Pasta serveris {host}:{port} vēstuli nepieņēma: {reason}.",
        "The mail server {host}:{port} refused the message: {reason}.",
    ),
    "delivery.smtp_unsupported": (
        "Pasta serveris {host}:{port} šādu vēstuli nevar nosūtīt: {reason}.",
        "The mail server {host}:{port} cannot send such a message: {reason}.",
    ),
    "delivery.smtp_failed": (
        "Pasta serveris {host}:{port} nav sasniedzams vai atbildēja ar kļūdu: {reason}.",
        "The mail server {host}:{port} could not be reached or answered with an error: {reason}.",
    ),
    "delivery.folder_failed": (
        "Vēstuli nevar ierakstīt mapē {folder}: {reason}.",
        "The message cannot be written to the folder {folder}: {reason}.",
    ),
    "delivery.refused": (
        "Kanāls vēstuli {key} nepieņēma.",
        "The channel refused the message {key}.",
    ),
    "mail.port_not_number": (
        "SHEMA_SMTP_PORT jābūt skaitlim.",
        "SHEMA_SMTP_PORT must be a number.",
    ),
    "mail.port_range": (
        "SHEMA_SMTP_PORT {value} nav porta numurs (1–65535).",
        "SHEMA_SMTP_PORT {value} is not a port (1-65535).",
    ),
    "mail.sender_invalid": (
        "SHEMA_MAIL_FROM {value} nav e-pasta adrese.",
        "SHEMA_MAIL_FROM {value} is not an e-mail address.",
    ),
    "mail.retry_hours": (
        "SHEMA_MAIL_RETRY_HOURS {value} nav stundu skaits no 1 līdz 720.",
        "SHEMA_MAIL_RETRY_HOURS {value} is not a number of hours from 1 to 720.",
    ),
    "mail.web_url_invalid": (
        "SHEMA_WEB_URL {value} nav tīmekļa adrese (piemēram, https://shema.example.lv).",
        "SHEMA_WEB_URL {value} is not a web address (e.g. https://shema.example.lv).",
    ),
}
