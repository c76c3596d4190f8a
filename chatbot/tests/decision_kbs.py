"""
Small knowledge bases for the answer-decision tests: a product manual of a few
long sections (a brand, Lumora, and no careers information), a support site
with an opening-hours page, and FAQs of one product where one word is in
almost every question.
"""

from __future__ import annotations

MANUAL_TITLE = "Lumora Vista 55 user manual"
MANUAL = """# Lumora Vista 55 user manual

## Power Saving Mode

Power Saving Mode lowers the energy the television uses by dimming the backlight and switching off parts of
the picture processing that you may not need. To select it, press the HOME button on the remote control, open
Settings, then Picture, then Eco Settings, and choose Power Saving Mode. Three levels are offered: Low reduces
the backlight slightly and keeps motion smoothing, Medium dims the backlight further and turns off the light
sensor boost, and High keeps only the essential processing and dims the screen to about half of its normal
brightness. The setting is stored for each input, so a game console and the built-in tuner can use different
levels. When the television has shown no picture for fifteen minutes it switches to standby by itself; this
timer can be changed under Eco Settings as well. Power Saving Mode cannot be combined with the HDR Vivid
picture mode, which needs the full backlight, and it is switched off automatically while HDR content plays.

## Picture settings

The Picture menu holds the picture modes and the fine adjustments behind them. Standard suits most living
rooms, Cinema shows films with the colours the director intended, Sports raises motion smoothing for fast
camera pans, and Game lowers the input delay for consoles and computers. Each mode keeps its own brightness,
contrast, colour, sharpness and colour temperature, and the Reset button returns the current mode to its
factory values without touching the others. Advanced settings include the black level, the gamma curve, a
ten-point white balance and noise reduction for old recordings. If the picture looks too dark in daytime,
raise the backlight first and only then the brightness, which changes the black level rather than the light
output. Calibration values entered by a technician can be locked with a PIN so that nobody changes them.

## Connecting to a network

The Vista 55 connects to a home network by Wi-Fi or by an Ethernet cable plugged into the LAN port at the
back. Open Settings, then Network, then Network Setup, and choose Wireless or Wired. For Wi-Fi, select your
network from the list and type its password with the on-screen keyboard or the remote's number keys; hidden
networks can be added by name. A wired connection is detected automatically and needs no password. After
connecting, the television checks for software updates and asks whether it may install them at night. If the
connection fails, restart the router, move it closer, or use the Network Test under the same menu, which
reports the signal strength, the address the television received and whether the internet can be reached.

## Cleaning and care

Unplug the television before cleaning it. Wipe the screen gently with a dry, soft microfibre cloth; for
fingerprints, lightly moisten the cloth with water only. Never spray liquid directly onto the screen or the
cabinet, and do not use window cleaner, alcohol, solvents or abrasive pads, which damage the anti-glare
coating. Dust the ventilation slots at the back every few months with a soft brush so that air can flow
freely, and leave at least ten centimetres of space around the cabinet when it stands in a cupboard. Keep
the television away from direct sunlight, radiators and humid rooms such as bathrooms.

## Safety instructions

Read these instructions before installing the television. Use only the supplied power cable and plug it into
a grounded socket with the voltage shown on the label at the back. Do not place the set on an unstable stand
or shelf; a falling television can cause serious injury, especially to children. When mounting it on a wall,
use a bracket rated for its weight and fix it to a solid wall by a qualified installer. Do not open the
cabinet: there are no user-serviceable parts inside and high voltages remain after unplugging. During a
thunderstorm, or when the set will not be used for a long time, unplug it from the mains and the aerial.
"""

SUPPORT_PAGES = [
    (
        "Opening hours",
        "Our customer service team answers the phone on +1 555 0100 from Monday to Friday between 8:00 and "
        "18:00, and on Saturday between 9:00 and 13:00. On Sundays and public holidays the phone line is closed, "
        "but you can still send us an email at help@example-shop.com and we reply on the next working day.",
    ),
    (
        "Returns and refunds",
        "You can return an unused item within 30 days of delivery. Start a return from your order page, print the "
        "prepaid label and drop the parcel at any post office. Refunds go back to the original payment method "
        "within five working days after the parcel arrives at our warehouse.",
    ),
    (
        "Delivery",
        "Orders placed before 14:00 on a working day leave our warehouse the same day. Standard delivery takes two "
        "to three working days and costs 4.95; orders over 50 are delivered free of charge.",
    ),
    (
        "Your account",
        "To change your password, open Account settings, choose Security and follow the link we email you. If you "
        "no longer have access to your email address, our customer service team can verify your identity.",
    ),
]
