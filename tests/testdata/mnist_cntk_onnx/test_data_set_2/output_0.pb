
BPlus214_Output_0J(t‹‚Åú–
Cƒ¼zÄXÄúT¨E0 Än3-Å ¿ıD÷Ò¶C ÔD